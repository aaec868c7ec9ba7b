package dev.ferry.balancer.proxy;

import dev.ferry.balancer.backend.Backend;
import dev.ferry.protocol.proxy.ProxyHeader;
import dev.ferry.runtime.net.Connection;
import dev.ferry.testkit.PipeConnection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An FTP backend in memory for {@link ProxySession} tests: the session dials it through {@link BackendDialer}
 * and gets a {@link PipeConnection}; a thread of its own reads the balancer's commands and answers each by a
 * handler per verb (Ferry-like defaults, replaced per test with {@link #on}). Its passive data port is a real
 * loopback listener ({@link #passive()}), since the balancer relays data over sockets.
 */
final class ScriptedBackend implements BackendDialer, AutoCloseable {

    /** Answers one command line; writes with {@link #reply}, or nothing (a backend that stays silent). */
    @FunctionalInterface
    interface Handler {
        void handle(ScriptedBackend backend, String line) throws Exception;
    }

    private final Map<String, Handler> handlers = new ConcurrentHashMap<>();
    /** Every line the balancer sent, in order. */
    final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    private volatile String greeting = "220 Ferry ready.";
    private volatile PipeConnection pipe;
    private volatile ServerSocketChannel dataListener;
    /** The PROXY header the session's dial asked for (what a socket dial would send), or null before one. */
    volatile ProxyHeader header;

    ScriptedBackend() {
        on("USER", (b, l) -> b.reply("331 Password required for " + l.substring(5) + "."));
        on("PASS", (b, l) -> b.reply("230 User alice logged in."));
        on("NOOP", (b, l) -> b.reply("200 NOOP ok."));
        on("PWD", (b, l) -> b.reply("257 \"/\" is the current directory."));
        on("QUIT", (b, l) -> b.reply("221 Goodbye."));
        on("PASV", (b, l) -> b.reply("227 Entering Passive Mode (127,0,0,1," + (b.passive() >> 8) + "," + (b.passive() & 0xff) + ")."));
        on("EPSV", (b, l) -> b.reply(l.equalsIgnoreCase("EPSV ALL") ? "200 EPSV ALL accepted."
                : "229 Entering Extended Passive Mode (|||" + b.passive() + "|)."));
    }

    /** The backend's address as the balancer knows it: data connections go to its host. */
    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 2121);
    }

    ScriptedBackend greeting(String line) {
        this.greeting = line;
        return this;
    }

    /** Replaces the handler of {@code verb}. */
    ScriptedBackend on(String verb, Handler handler) {
        handlers.put(verb, handler);
        return this;
    }

    /** Writes one reply line (or several, CRLF-separated) to the balancer. */
    void reply(String text) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((text + "\r\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            pipe.clientOutput().write(b);
        }
    }

    /** The backend's passive port (a loopback listener, opened on first use). */
    synchronized int passive() throws IOException {
        if (dataListener == null) {
            dataListener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        }
        return ((InetSocketAddress) dataListener.getLocalAddress()).getPort();
    }

    /** Accepts the balancer's data connection to {@link #passive()}. */
    SocketChannel acceptData() throws IOException {
        return dataListener.accept();
    }

    /** The next line the balancer sent, waiting up to five seconds. */
    String nextReceived() throws InterruptedException {
        String l = received.poll(5, TimeUnit.SECONDS);
        if (l == null) {
            throw new AssertionError("the backend received nothing");
        }
        return l;
    }

    @Override
    public Connection dial(Backend backend, Duration timeout, ProxyHeader header, SetUp setUp) throws IOException {
        this.header = header;
        PipeConnection p = new PipeConnection(new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000), address());
        this.pipe = p;
        reply(greeting);
        Thread.ofVirtual().start(this::serve);
        setUp.run(p);
        return p;
    }

    private void serve() {
        ByteBuffer in = ByteBuffer.allocate(8192);
        StringBuilder line = new StringBuilder();
        try {
            while (pipe.clientInput().read(in) >= 0) {
                in.flip();
                while (in.hasRemaining()) {
                    char c = (char) in.get();
                    if (c == '\n') {
                        String l = line.toString().replace("\r", "");
                        line.setLength(0);
                        received.add(l);
                        String verb = (l.contains(" ") ? l.substring(0, l.indexOf(' ')) : l).toUpperCase(Locale.ROOT);
                        Handler h = handlers.get(verb);
                        if (h != null) {
                            h.handle(this, l);
                        } else {
                            reply("502 " + verb + " not implemented.");
                        }
                    } else {
                        line.append(c);
                    }
                }
                in.clear();
            }
        } catch (Exception e) {
            // the pipe closed: the session ended
        }
    }

    /** The backend closes its control connection (the balancer sees end of stream). */
    void hangUp() {
        pipe.closeClientEnds();
    }

    @Override
    public void close() {
        if (pipe != null) {
            pipe.closeClientEnds();
        }
        try {
            if (dataListener != null) {
                dataListener.close();
            }
        } catch (IOException ignored) {
            // test cleanup
        }
    }

}
