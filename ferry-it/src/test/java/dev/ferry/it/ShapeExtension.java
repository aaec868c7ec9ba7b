package dev.ferry.it;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.it.balancer.BalancerCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs the FTP service of one {@link Shape} per test, on port 0, serving a fresh root; register it with
 * {@code @RegisterExtension}. A test written against this class alone (host, port, credentials, root,
 * client directory, certificate, log lines) runs unchanged in every shape.
 *
 * <p>To run a test class in every shape, put its tests in an abstract static nested class whose constructor
 * takes the shape, and add {@code @Nested} subclasses that pass {@link Shape#DIRECT}, {@link Shape#BALANCED}
 * and {@link Shape#OBJECT_STORE} (JUnit 5.11 has no parameterised classes); see {@link CurlTest}. A test that only
 * makes sense in one shape (it restarts a server, or is about the balancer's own replies) goes into that
 * shape's nested class.
 *
 * <p>After each test it fails the test if a server or the balancer logged an internal error.
 */
public final class ShapeExtension implements BeforeEachCallback, AfterEachCallback, FtpService {

    public static final String USER = FerryServerExtension.USER;
    public static final String PASSWORD = FerryServerExtension.PASSWORD;

    private final Shape shape;
    private boolean tls;
    private Running running;

    public ShapeExtension(Shape shape) {
        this.shape = shape;
    }

    /**
     * Explicit and implicit FTPS (self-signed certificate made in memory): ferry server with an implicit
     * listener; ferry balancer terminating TLS, explicit and implicit, in front of plain servers.
     */
    public ShapeExtension withTls() {
        this.tls = true;
        return this;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        running = switch (shape) {
            case DIRECT -> Direct.start(tls, null);
            case BALANCED -> Balanced.start(tls);
            case OBJECT_STORE -> Direct.start(tls, ObjectStoreFixture.shared(context));
        };
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        running.close();
    }

    public Shape shape() {
        return shape;
    }

    @Override
    public String host() {
        return running.host();
    }

    @Override
    public int port() {
        return running.port();
    }

    @Override
    public String user() {
        return USER;
    }

    @Override
    public String password() {
        return PASSWORD;
    }

    @Override
    public Path root() {
        return running.root();
    }

    @Override
    public Path clientDir() {
        return running.clientDir();
    }

    /** The implicit FTPS port ({@link #withTls()} only). */
    public int implicitTlsPort() {
        return running.implicitTlsPort();
    }

    /** The certificate the client is shown: the server's, or the terminating balancer's. */
    public X509Certificate certificate() {
        return running.certificate();
    }

    /** The session lines logged so far: the server's; the balancer's and both servers'. */
    public List<String> logLines() {
        return running.logLines();
    }

    /**
     * ferry server, in the shapes with one server (direct, object store): for a test about its own settings
     * ({@link FerryServerExtension#restart}).
     */
    public FerryServerExtension server() {
        if (running instanceof Direct direct) {
            return direct.server();
        }
        throw new IllegalStateException("the " + shape + " shape has no single server");
    }

    /** One started shape: what a client sees of it, and how it stops. */
    private interface Running extends AutoCloseable {
        String host();

        int port();

        int implicitTlsPort();

        Path root();

        Path clientDir();

        X509Certificate certificate();

        List<String> logLines();
    }

    /** ferry server on 127.0.0.1; its files on local disk, or on {@code objectStore} if given. */
    private record Direct(FerryServerExtension server) implements Running {
        static Direct start(boolean tls, ObjectStoreFixture objectStore) throws IOException {
            FerryServerExtension server = new FerryServerExtension();
            if (objectStore != null) {
                server.onObjectStore(objectStore);
            }
            if (tls) {
                server.configure(s -> s.withTls(s.tls().withImplicitListen(new InetSocketAddress("127.0.0.1", 0))));
            }
            server.open();
            return new Direct(server);
        }

        @Override
        public String host() {
            return server.host();
        }

        @Override
        public int port() {
            return server.port();
        }

        @Override
        public int implicitTlsPort() {
            return server.server().implicitTlsAddress().getPort();
        }

        @Override
        public Path root() {
            return server.root();
        }

        @Override
        public Path clientDir() {
            return server.clientDir();
        }

        @Override
        public X509Certificate certificate() {
            return server.server().tls().identity().certificate();
        }

        @Override
        public List<String> logLines() {
            return server.logLines();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /** ferry balancer on 127.0.0.5 in front of ferry servers on 127.0.0.2 and 127.0.0.3. */
    private record Balanced(BalancerCluster cluster) implements Running {
        static Balanced start(boolean tls) throws IOException {
            BalancerCluster.Addresses addresses = BalancerCluster.Addresses.SEPARATE;
            return new Balanced(BalancerCluster.start(addresses, (index, s) -> s, b -> tls
                    ? b.withTls(BalancerSettings.Tls.OFF.withMode(BalancerSettings.TlsMode.TERMINATE)
                            .withImplicitListen(new InetSocketAddress(addresses.balancer(), 0)))
                    : b));
        }

        @Override
        public String host() {
            return cluster.host();
        }

        @Override
        public int port() {
            return cluster.port();
        }

        @Override
        public int implicitTlsPort() {
            return cluster.balancer().implicitTlsAddress().getPort();
        }

        @Override
        public Path root() {
            return cluster.root();
        }

        @Override
        public Path clientDir() {
            return cluster.clientDir();
        }

        @Override
        public X509Certificate certificate() {
            return cluster.balancer().status().tls().server().identity().certificate();
        }

        @Override
        public List<String> logLines() {
            return cluster.logLines();
        }

        @Override
        public void close() throws IOException {
            cluster.close();
        }
    }
}
