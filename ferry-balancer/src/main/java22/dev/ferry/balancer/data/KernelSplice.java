package dev.ferry.balancer.data;

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
import java.lang.reflect.Method;
import java.net.SocketTimeoutException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Socket-to-socket copying inside the kernel: splice(2) from the source socket into a pipe, and from
 * the pipe into the destination socket. The bytes are never copied to user space, which halves the
 * balancer's CPU per relayed byte (its two copies are the bulk of it; HAProxy's "option splice-auto"
 * does the same). Java 22+ only (java.lang.foreign), Linux only; the Java 21 version of this class
 * says it is unavailable and {@link Relay} copies through a buffer.
 *
 * <p>Design: the sockets' descriptors are switched to non-blocking and every wait is a poll(2) with
 * the data timeout, so a pump never waits unbounded and runs on a platform thread (a blocking
 * native call would pin a virtual thread's carrier). Descriptors come from the JDK's channel, which
 * needs {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} (the ferry jar's manifest says so);
 * without it, or off Linux, {@link #unavailableReason()} explains and the relay copies. Only the
 * relay closes the channels, after both pumps ended, so a descriptor number is never reused under a
 * running pump; other threads stop a pump by shutting its socket down, which poll(2) reports.
 */
final class KernelSplice {

    private static final int SPLICE_F_MOVE = 1;
    private static final int SPLICE_F_NONBLOCK = 2;
    private static final int O_NONBLOCK = 0x800;      // Linux x86-64 and aarch64
    private static final int O_CLOEXEC = 0x80000;
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int F_SETPIPE_SZ = 1031;
    private static final int EINTR = 4;
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
    private static final Method FD_VALUE;

    static {
        String why = null;
        StructLayout state = null;
        VarHandle errno = null;
        MethodHandle splice = null;
        MethodHandle pipe2 = null;
        MethodHandle poll = null;
        MethodHandle fcntl = null;
        MethodHandle close = null;
        Method fdValue = null;
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
                fdValue = Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal");
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
        FD_VALUE = fdValue;
    }

    private KernelSplice() {
    }

    /** Null when splicing works here, else why not (for the start-up log line). */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /**
     * Moves bytes from {@code from} to {@code to} until end of stream (the caller decides how that end is
     * passed on). Fails when nothing can move for {@code timeout} (a SocketTimeoutException), or on a
     * socket error. {@code writing}
     * hears true while the pump waits for {@code to} to take bytes, false when it waits no more.
     */
    static void pump(SocketChannel from, SocketChannel to, Duration timeout, LongConsumer counter,
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
