package dev.ferry.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.runtime.metrics.MetricsEndpoint;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The server's metrics listener over a real loopback socket, with the JDK's HTTP client. */
@Timeout(30)
class MetricsListenerTest {

    @TempDir
    Path root;
    private FtpServer server;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeEach
    void start() throws IOException {
        server = FtpServer.start(ServerSettings.defaults(root)
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withMetricsListen(new InetSocketAddress("127.0.0.1", 0)));
    }

    @AfterEach
    void stop() {
        server.close();
        http.close();
    }

    private HttpResponse<String> request(String method, String path) throws IOException, InterruptedException {
        InetSocketAddress at = server.metricsAddress();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(10))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void getMetricsAnswersTheTextFormat() throws Exception {
        HttpResponse<String> r = request("GET", "/metrics");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(r.body()).contains("# TYPE ferry_server_sessions_open gauge", "ferry_server_sessions_open 0");
    }

    @Test
    void headAnswersTheHeadersOnly() throws Exception {
        HttpResponse<String> r = request("HEAD", "/metrics");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue(MetricsEndpoint.contentType());
        assertThat(r.body()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource({"POST, /metrics, 405", "PUT, /metrics, 405", "DELETE, /metrics, 405",
            "GET, /, 404", "GET, /stats, 404", "GET, /metrics/x, 404", "GET, /metricsx, 404", "POST, /other, 404"})
    void otherMethodsAndPathsAreRefused(String method, String path, int status) throws Exception {
        HttpResponse<String> r = request(method, path);

        assertThat(r.statusCode()).isEqualTo(status);
        assertThat(r.body()).doesNotContain("ferry_server_");
        if (status == 405) {
            assertThat(r.headers().firstValue("Allow")).hasValue("GET, HEAD");
        }
    }

    @Test
    void theListenerStopsWithTheServer() throws Exception {
        InetSocketAddress at = server.metricsAddress();
        server.close();

        assertThat(canConnect(at)).isFalse();
    }

    @Test
    void withoutAnAddressThereIsNoListener() throws Exception {
        try (FtpServer plain = FtpServer.start(ServerSettings.defaults(root).withListen(new InetSocketAddress("127.0.0.1", 0)))) {
            assertThat(plain.metricsAddress()).isNull();
        }
    }

    @Test
    void aMetricsAddressInUseStopsTheStartWithAClearMessage() throws Exception {
        InetSocketAddress taken = server.metricsAddress();
        ServerSettings clash = ServerSettings.defaults(root).withListen(new InetSocketAddress("127.0.0.1", 0))
                .withMetricsListen(taken);

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FtpServer.start(clash))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("cannot listen for metrics on 127.0.0.1:" + taken.getPort() + ": ");
    }

    private static boolean canConnect(InetSocketAddress at) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", at.getPort()), 2000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
