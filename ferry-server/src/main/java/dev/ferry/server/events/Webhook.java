package dev.ferry.server.events;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

/**
 * POSTs an event's JSON to a URL. 2xx: delivered. 5xx, a timeout or a network error: tried again. Any other status
 * (4xx, or a 3xx, which is not followed: a redirect would resend the body where the operator did not say): refused,
 * not tried again, since the same request would be refused the same way.
 */
public final class Webhook implements HookAction {

    private final URI url;
    private final Duration timeout;
    private final HttpClient client;

    public Webhook(URI url, Duration timeout) {
        this.url = url;
        this.timeout = timeout;
        this.client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    @Override
    public String name() {
        return "webhook";
    }

    @Override
    public String describe() {
        return EventSettings.loggable(url);
    }

    @Override
    public Attempt deliver(FileEvent event) throws InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(url).timeout(timeout)
                .header("Content-Type", "application/json")
                .header("User-Agent", "ferry")
                .POST(HttpRequest.BodyPublishers.ofString(event.json())).build();
        try {
            // The status says it all; the body is never read. The request timeout ends with the headers, so reading
            // (or discarding) the body would wait as long as the receiver cares to trickle it, holding one of the few
            // workers. Closing the unread body ends the exchange at once (an unread body costs the connection's reuse).
            HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            response.body().close();
            int status = response.statusCode();
            String code = Integer.toString(status);
            if (status >= 200 && status < 300) {
                return Attempt.delivered("status", code);
            }
            return status >= 500 ? Attempt.failed("status", code) : Attempt.refused("status", code);
        } catch (HttpConnectTimeoutException e) {
            return Attempt.failed("error", "connect-timeout");
        } catch (HttpTimeoutException e) {
            return Attempt.failed("error", "timeout");
        } catch (ConnectException e) {
            return Attempt.failed("error", "connection-refused");
        } catch (IOException e) {
            // The exception's text may name the URL (with its query): only its class is logged.
            return Attempt.failed("error", e.getClass().getSimpleName());
        }
    }

    /** Closes the client's connections (JDK 21: HttpClient is AutoCloseable). */
    void close() {
        client.shutdownNow();
    }
}
