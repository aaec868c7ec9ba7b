package dev.ferry.runtime.net;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.SocketTimeoutException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Copying inside the kernel: splice(2) from a socket into a pipe, and from the pipe into a socket (the
 * balancer's relay, {@link #pump}) or a file (the server's uploads, {@link #toFile}). The bytes are never
 * copied to user space, which halves the balancer's CPU per relayed byte (its two copies are the bulk of it;
 * HAProxy's "option splice-auto" does the same). Java 22+ only (java.lang.foreign), Linux only; the Java 21
 * version of this class says it is unavailable and the callers copy through a buffer.
 *
 * <p>Design: the sockets' descriptors are switched to non-blocking and every wait is a poll(2) with
 * the data timeout, so a pump never waits unbounded and runs on a platform thread (a blocking
 * native call would pin a virtual thread's carrier). Descriptors come from the JDK's channel, which
 * needs {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} (the ferry jar's manifest says so);
 * without it, or off Linux, {@link #unavailableReason()} explains and the relay copies. Only the
 * relay closes the channels, after both pumps ended, so a descriptor number is never reused under a
 * running pump; other threads stop a pump by shutting its socket down, which poll(2) reports.
 */
public final class KernelSplice {

    private static final int SPLICE_F_MOVE = 1;
    private static final int SPLICE_F_NONBLOCK = 2;
    private static final int O_NONBLOCK = 0x800;      // Linux x86-64 and aarch64
    private static final int O_CLOEXEC = 0x80000;
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int F_SETPIPE_SZ = 1031;
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final int O_APPEND = 0x400;        // Linux x86-64 and aarch64
    private static final int EINTR = 4;
    private static final int EINVAL = 22;
    private static final int EAGAIN = 11;
    private static final short POLLIN = 0x1;
    private static final short POLLOUT = 0x4;
    private static final short POLLNVAL = 0x20;
    /** Pipe capacity and largest splice: 1 MiB is Linux's default pipe-max-size. */
    private static final int PIPE_SIZE = 1 << 20;

    private static final String UNAVAILABLE;
    private static final StructLayout CALL_STATE;
    private static final VarHandle ERRNO;
    private static final MethodHandle SPLICE;
    private static final MethodHandle PIPE2;
    private static final MethodHandle POLL;
    private static final MethodHandle FCNTL;
    private static final MethodHandle CLOSE;
    private static final MethodHandle READ;
    private static final Method FD_VALUE;
    /** FileChannelImpl's descriptor and IOUtil.fdVal; null where sun.nio.ch is not opened (file splicing then off). */
    private static final Field FILE_FD;
    private static final Method FD_NUMBER;

    static {
        String why = null;
        StructLayout state = null;
        VarHandle errno = null;
        MethodHandle splice = null;
        MethodHandle pipe2 = null;
        MethodHandle poll = null;
        MethodHandle fcntl = null;
        MethodHandle close = null;
        MethodHandle read = null;
        Method fdValue = null;
        Field fileFd = null;
        Method fdNumber = null;
        try {
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
                why = "splice(2) is Linux only";
            } else if (!Object.class.getModule().isExported("sun.nio.ch", KernelSplice.class.getModule())) {
                why = "the JVM was started without --add-exports java.base/sun.nio.ch=ALL-UNNAMED";
            } else {
                Linker linker = Linker.nativeLinker();
                Linker.Option captureErrno = Linker.Option.captureCallState("errno");
                state = Linker.Option.captureStateLayout();
                errno = state.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                var libc = linker.defaultLookup();
                splice = linker.downcallHandle(libc.find("splice").orElseThrow(),
                        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), captureErrno);
                pipe2 = linker.downcallHandle(libc.find("pipe2").orElseThrow(),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), captureErrno);
                poll = linker.downcallHandle(libc.find("poll").orElseThrow(),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), captureErrno);
                fcntl = linker.downcallHandle(libc.find("fcntl").orElseThrow(),
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
                close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
                read = linker.downcallHandle(libc.find("read").orElseThrow(),
                        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), captureErrno);
                fdValue = Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal");
                fdNumber = Class.forName("sun.nio.ch.IOUtil").getMethod("fdVal", java.io.FileDescriptor.class);
                if (Object.class.getModule().isOpen("sun.nio.ch", KernelSplice.class.getModule())) {
                    fileFd = Class.forName("sun.nio.ch.FileChannelImpl").getDeclaredField("fd");
                    fileFd.setAccessible(true);
                }
            }
        } catch (Throwable t) {
            // IllegalCallerException: native access refused (--enable-native-access); anything else: no libc symbol.
            why = "native access unavailable: " + t;
        }
        UNAVAILABLE = why;
        CALL_STATE = state;
        ERRNO = errno;
        SPLICE = splice;
        PIPE2 = pipe2;
        POLL = poll;
        FCNTL = fcntl;
        CLOSE = close;
        READ = read;
        FD_VALUE = fdValue;
        FILE_FD = fileFd;
        FD_NUMBER = fdNumber;
    }

    private KernelSplice() {
    }

    /** Null when splicing works here, else why not (for the start-up log line). */
    public static String unavailableReason() {
        return UNAVAILABLE;
    }

    /**
     * Moves bytes from {@code from} to {@code to} until end of stream (the caller decides how that end is
     * passed on). Fails when nothing can move for {@code timeout} (a SocketTimeoutException), or on a
     * socket error. {@code writing}
     * hears true while the pump waits for {@code to} to take bytes, false when it waits no more.
     */
    public static void pump(SocketChannel from, SocketChannel to, Duration timeout, LongConsumer counter,
                     Consumer<Boolean> writing) throws IOException {
        int in = fd(from);
        int out = fd(to);
        int timeoutMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment pollFd = arena.allocate(8, 4);
            MemorySegment pipeFds = arena.allocate(JAVA_INT, 2);
            nonBlocking(in);
            nonBlocking(out);
            check((int) PIPE2.invokeExact(state, pipeFds, O_CLOEXEC | O_NONBLOCK), "pipe2", state);
            int pipeRead = pipeFds.getAtIndex(JAVA_INT, 0);
            int pipeWrite = pipeFds.getAtIndex(JAVA_INT, 1);
            try {
                // A larger pipe means fewer splices per byte; refused above pipe-max-size, which is harmless.
                int ignored = (int) FCNTL.invokeExact(pipeWrite, F_SETPIPE_SZ, PIPE_SIZE);
                while (true) {
                    long n = (long) SPLICE.invokeExact(state, in, MemorySegment.NULL, pipeWrite, MemorySegment.NULL,
                            (long) PIPE_SIZE, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                    if (n == 0) {
                        break;
                    }
                    if (n < 0) {
                        awaitOrFail(state, pollFd, in, POLLIN, timeoutMillis, "splice from socket");
                        continue;
                    }
                    long left = n;
                    while (left > 0) {
                        long m = (long) SPLICE.invokeExact(state, pipeRead, MemorySegment.NULL, out, MemorySegment.NULL,
                                left, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                        if (m < 0) {
                            writing.accept(Boolean.TRUE);
                            awaitOrFail(state, pollFd, out, POLLOUT, timeoutMillis, "splice to socket");
                            writing.accept(Boolean.FALSE);
                        } else {
                            left -= m;
                        }
                    }
                    counter.accept(n);
                }
            } finally {
                int r1 = (int) CLOSE.invokeExact(pipeRead);
                int r2 = (int) CLOSE.invokeExact(pipeWrite);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("splice failed: " + t, t);
        }
    }

    /**
     * A socket-to-file splice for {@code from}'s bytes into {@code to} at its position, or null when it cannot be
     * had here (not Linux, Java 21, sun.nio.ch not opened, a file opened for appending, which splice(2) refuses):
     * the caller then copies.
     *
     * <p>Design: the caller keeps its own loop and its own waiting. {@link SocketToFile#fill} never blocks (the
     * socket is non-blocking, as the JDK makes it for virtual threads anyway): it takes what the socket holds
     * into the pipe, or says there is nothing. The caller checks those bytes (a quota) and counts them before
     * {@link SocketToFile#drain} writes them to the file; with nothing waiting it waits in an ordinary read of
     * the channel, where a virtual thread parks (a native wait would pin its carrier) and the data timeout and
     * ABOR work as for any read. So the native calls are short and run on the caller's own thread.
     *
     * <p>SECURITY: the splice works on duplicates of both descriptors, closed only by {@link SocketToFile#close}.
     * Another thread closing the channel (the data timeout, ABOR) closes the JDK's descriptor at once, since no
     * JDK operation is registered on it; splicing by that number afterwards could read another connection, or
     * write another file, that got the number meanwhile. A duplicate keeps the socket and the file open (their
     * own, never another's) until this ends; {@link SocketToFile#fill} and {@link SocketToFile#drain} refuse to go
     * on once either channel is closed.
     */
    public static SocketToFile toFile(SocketChannel from, FileChannel to) throws IOException {
        if (UNAVAILABLE != null || FILE_FD == null) {
            return null;
        }
        int socketFd = fd(from);
        int fileFd;
        try {
            fileFd = (int) FD_NUMBER.invoke(null, FILE_FD.get(to));
        } catch (ReflectiveOperationException | IllegalArgumentException e) {
            return null; // not the JDK's file channel (a test's wrapper): copy
        }
        try {
            int fileFlags = (int) FCNTL.invokeExact(fileFd, F_GETFL, 0);
            if (fileFlags < 0 || (fileFlags & O_APPEND) != 0) {
                // splice(2) refuses a file opened with O_APPEND (EINVAL): APPE copies
                return null;
            }
            return new SocketToFile(from, to, socketFd, fileFd);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("splice setup failed: " + t, t);
        }
    }

    /** Bytes from a socket into a file through a pipe, on the caller's thread; see {@link #toFile}. */
    public static final class SocketToFile implements AutoCloseable {
        private final SocketChannel from;
        private final FileChannel to;
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment state = arena.allocate(CALL_STATE);
        private final int socketFd;
        private final int fileFd;
        private final int pipeRead;
        private final int pipeWrite;
        /** Bytes in the pipe, taken by fill and not yet written by drain. */
        private long inPipe;
        /** False once the file system refused splice(2) into the file: drain then copies through this buffer. */
        private boolean spliceToFile = true;
        private MemorySegment copyBuffer;
        private boolean closed;

        private SocketToFile(SocketChannel from, FileChannel to, int socketFd, int fileFd) throws Throwable {
            this.from = from;
            this.to = to;
            int socketDup = -1;
            int fileDup = -1;
            try {
                socketDup = (int) FCNTL.invokeExact(socketFd, F_DUPFD_CLOEXEC, 0);
                check(socketDup, "dup socket", state);
                fileDup = (int) FCNTL.invokeExact(fileFd, F_DUPFD_CLOEXEC, 0);
                check(fileDup, "dup file", state);
                nonBlocking(socketDup);
                MemorySegment pipeFds = arena.allocate(JAVA_INT, 2);
                check((int) PIPE2.invokeExact(state, pipeFds, O_CLOEXEC | O_NONBLOCK), "pipe2", state);
                this.pipeRead = pipeFds.getAtIndex(JAVA_INT, 0);
                this.pipeWrite = pipeFds.getAtIndex(JAVA_INT, 1);
            } catch (Throwable t) {
                closeQuietly(socketDup);
                closeQuietly(fileDup);
                arena.close();
                throw t;
            }
            this.socketFd = socketDup;
            this.fileFd = fileDup;
            // A larger pipe means fewer splices per byte; refused above pipe-max-size, which is harmless.
            int ignored = (int) FCNTL.invokeExact(pipeWrite, F_SETPIPE_SZ, PIPE_SIZE);
        }

        /**
         * Takes what the socket holds now, at most {@code max} bytes (and at most the pipe's 1 MiB), into the pipe
         * without waiting: the bytes taken (then {@link #drain} them before the next fill), 0 at the end of the
         * stream, -1 when nothing is waiting.
         */
        public long fill(long max) throws IOException {
            if (inPipe > 0) {
                throw new IllegalStateException("drain before the next fill");
            }
            try {
                while (true) {
                    stillOpen();
                    long n = (long) SPLICE.invokeExact(state, socketFd, MemorySegment.NULL, pipeWrite,
                            MemorySegment.NULL, Math.min(max, (long) PIPE_SIZE), SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                    if (n >= 0) {
                        inPipe = n;
                        return n;
                    }
                    int errno = (int) ERRNO.get(state, 0L);
                    if (errno == EAGAIN) {
                        return -1;
                    }
                    if (errno != EINTR) {
                        throw new IOException("splice from socket failed: errno " + errno);
                    }
                }
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException("splice failed: " + t, t);
            }
        }

        /** Writes the bytes {@link #fill} took into the file, at its position (which moves on). */
        public void drain() throws IOException {
            try {
                while (inPipe > 0) {
                    if (!to.isOpen()) {
                        throw new AsynchronousCloseException();
                    }
                    if (!spliceToFile) {
                        copyOut();
                        continue;
                    }
                    long m = (long) SPLICE.invokeExact(state, pipeRead, MemorySegment.NULL, fileFd, MemorySegment.NULL,
                            inPipe, SPLICE_F_MOVE);
                    if (m > 0) {
                        inPipe -= m;
                        continue;
                    }
                    int errno = m < 0 ? (int) ERRNO.get(state, 0L) : 0;
                    if (errno == EINTR) {
                        continue;
                    }
                    if (errno == EINVAL) {
                        // This file system cannot take a splice (no splice_write): copy the rest of the way.
                        spliceToFile = false;
                        continue;
                    }
                    throw new IOException("splice to file failed: " + (m == 0 ? "nothing written" : "errno " + errno));
                }
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException("splice failed: " + t, t);
            }
        }

        /** Moves what the pipe holds to the file through a buffer, for a file system that refused splice(2). */
        private void copyOut() throws Throwable {
            if (copyBuffer == null) {
                copyBuffer = arena.allocate(PIPE_SIZE);
            }
            long n = (long) READ.invokeExact(state, pipeRead, copyBuffer, Math.min(inPipe, (long) PIPE_SIZE));
            if (n <= 0) {
                if (n < 0 && (int) ERRNO.get(state, 0L) == EINTR) {
                    return;
                }
                throw new IOException("read from pipe failed");
            }
            java.nio.ByteBuffer bytes = copyBuffer.asSlice(0, n).asByteBuffer();
            while (bytes.hasRemaining()) {
                to.write(bytes);
            }
            inPipe -= n;
        }

        /** The channel was closed under the splice (data timeout, ABOR): stop, as a read of it would. */
        private void stillOpen() throws AsynchronousCloseException {
            if (!from.isOpen() || !to.isOpen()) {
                throw new AsynchronousCloseException();
            }
        }

        /** Closes the pipe and the duplicates (the channels stay open: their owners close them). */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            closeQuietly(pipeRead);
            closeQuietly(pipeWrite);
            closeQuietly(socketFd);
            closeQuietly(fileFd);
            arena.close();
        }
    }

    private static void closeQuietly(int fd) {
        if (fd < 0) {
            return;
        }
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            // nothing to do: the descriptor is gone either way
        }
    }

    /** After a failed call: waits (bounded) when it would have blocked, retries on EINTR, else fails. */
    private static void awaitOrFail(MemorySegment state, MemorySegment pollFd, int fd, short events, int timeoutMillis,
                                    String what) throws Throwable {
        int errno = (int) ERRNO.get(state, 0L);
        if (errno == EINTR) {
            return;
        }
        if (errno != EAGAIN) {
            throw new IOException(what + " failed: errno " + errno);
        }
        pollFd.set(JAVA_INT, 0, fd);
        pollFd.set(JAVA_SHORT, 4, events);
        pollFd.set(JAVA_SHORT, 6, (short) 0);
        int ready = (int) POLL.invokeExact(state, pollFd, 1L, timeoutMillis);
        if (ready == 0) {
            throw new SocketTimeoutException("no data moved for " + timeoutMillis + " ms");
        }
        if (ready < 0 && (int) ERRNO.get(state, 0L) != EINTR) {
            throw new IOException("poll failed: errno " + (int) ERRNO.get(state, 0L));
        }
        if ((pollFd.get(JAVA_SHORT, 6) & POLLNVAL) != 0) {
            throw new IOException("socket closed under the relay");
        }
        // POLLHUP/POLLERR: the next splice reports end of stream or the error itself.
    }

    private static int fd(SocketChannel channel) throws IOException {
        try {
            return (int) FD_VALUE.invoke(channel);
        } catch (ReflectiveOperationException e) {
            throw new IOException("no descriptor for " + channel, e);
        }
    }

    private static void nonBlocking(int fd) throws Throwable {
        int flags = (int) FCNTL.invokeExact(fd, F_GETFL, 0);
        if (flags < 0 || (int) FCNTL.invokeExact(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
            throw new IOException("cannot make descriptor " + fd + " non-blocking");
        }
    }

    private static void check(int result, String call, MemorySegment state) throws IOException {
        if (result < 0) {
            throw new IOException(call + " failed: errno " + (int) ERRNO.get(state, 0L));
        }
    }
}
