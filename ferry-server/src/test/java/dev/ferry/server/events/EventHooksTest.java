package dev.ferry.server.events;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.server.events.EventSettings.Kind;
import dev.ferry.server.events.HookAction.Attempt;
import dev.ferry.server.fs.LocalStorage;
import dev.ferry.server.fs.VirtualPath;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The queue, the retries and the partial-file rule of {@link EventHooks}, with scripted actions and no real waits. */
class EventHooksTest {

    private static final Instant NOW = Instant.parse("2026-12-07T19:00:00Z");
    private static final EventHooks.Origin ALICE = new EventHooks.Origin("alice", "127.0.0.5:40000", "c7");
    private static final EventSettings SETTINGS = EventSettings.OFF.withWebhook(URI.create("http://127.0.0.1:9/hook"))
            .withRetries(3).withBackoff(Duration.ofMillis(100));

    private final List<Duration> slept = Collections.synchronizedList(new ArrayList<>());
    private final Counted counted = new Counted();
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger("ferry.events.test");
    private final EventLog log = new EventLog(logger, "s1");
    private EventHooks hooks;

    @BeforeEach
    void capture() {
        lines.start();
        logger.setLevel(Level.INFO);
        logger.setAdditive(false);
        logger.addAppender(lines);
    }

    @AfterEach
    void stop() {
        if (hooks != null) {
            hooks.close(Duration.ofSeconds(5));
        }
        logger.detachAppender(lines);
        logger.setLevel(null);
        logger.setAdditive(true);
    }

    /** Counts as ServerMetrics does. */
    static final class Counted implements EventHooks.Counters {
        final List<String> outcomes = Collections.synchronizedList(new ArrayList<>());

        @Override public void delivered(String action) { outcomes.add(action + ":delivered"); }
        @Override public void failed(String action) { outcomes.add(action + ":failed"); }
        @Override public void dropped() { outcomes.add("dropped"); }
    }

    /** Answers each attempt from a script (the last answer repeats) and records the events it was given. */
    static final class Scripted implements HookAction {
        final List<Attempt> answers;
        final BlockingQueue<FileEvent> seen = new LinkedBlockingQueue<>();
        int calls;

        Scripted(Attempt... answers) {
            this.answers = List.of(answers);
        }

        @Override public String name() { return "webhook"; }
        @Override public String describe() { return "http://127.0.0.1:9/hook"; }

        @Override
        public synchronized Attempt deliver(FileEvent event) {
            seen.add(event);
            return answers.get(Math.min(calls++, answers.size() - 1));
        }
    }

    private EventHooks hooks(EventSettings settings, HookAction action) {
        hooks = new EventHooks(settings, List.of(action), counted, log, slept::add, Clock.fixed(NOW, ZoneOffset.UTC));
        return hooks;
    }

    private static FileEvent event() throws Exception {
        return new FileEvent(Kind.DELETE, "alice", VirtualPath.of("/a.txt"), null, 3, null, "127.0.0.5:40000", "s1",
                "c7", NOW);
    }

    private List<String> messages() {
        synchronized (lines) {
            return lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    @Test
    void twoServerErrorsThenOkAreThreeAttemptsAndOneDelivery() throws Exception {
        Scripted action = new Scripted(Attempt.failed("status", "500"), Attempt.failed("status", "500"),
                Attempt.delivered("status", "200"));
        hooks(SETTINGS, action).deliver(action, event());

        assertThat(action.calls).isEqualTo(3);
        assertThat(counted.outcomes).containsExactly("webhook:delivered");
        // the backoff doubles from its first value
        assertThat(slept).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
        assertThat(messages()).hasSize(3);
        assertThat(messages().get(0)).contains("event=hook-failed", "kind=delete", "path=/a.txt", "user=alice",
                "client=127.0.0.5:40000", "attempt=1", "status=500", "next=retry");
        assertThat(messages().get(2)).contains("event=hook-delivered", "attempt=3", "status=200");
    }

    @Test
    void aRefusedRequestIsNotTriedAgain() throws Exception {
        Scripted action = new Scripted(Attempt.refused("status", "403"));
        hooks(SETTINGS, action).deliver(action, event());

        assertThat(action.calls).isEqualTo(1);
        assertThat(counted.outcomes).containsExactly("webhook:failed");
        assertThat(messages()).singleElement().asString().contains("status=403", "next=none");
    }

    @Test
    void afterTheLastRetryTheEventCountsAsFailed() throws Exception {
        Scripted action = new Scripted(Attempt.failed("error", "timeout"));
        hooks(SETTINGS.withRetries(2), action).deliver(action, event());

        assertThat(action.calls).isEqualTo(3);
        assertThat(counted.outcomes).containsExactly("webhook:failed");
        assertThat(messages()).last().asString().contains("attempt=3", "error=timeout", "next=none");
    }

    @Test
    void theBackoffStopsGrowingAtItsCeiling() throws Exception {
        Scripted action = new Scripted(Attempt.failed("status", "503"));
        hooks(SETTINGS.withRetries(4).withBackoff(Duration.ofSeconds(20)), action).deliver(action, event());

        assertThat(slept).containsExactly(Duration.ofSeconds(20), Duration.ofSeconds(40), EventSettings.MAX_BACKOFF,
                EventSettings.MAX_BACKOFF);
    }

    /** The session's side never waits: with the one worker busy and the queue full, the next event is dropped. */
    @Test
    void aFullQueueDropsTheEventWithALogLine() throws Exception {
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        HookAction blocking = new HookAction() {
            @Override public String name() { return "command"; }
            @Override public String describe() { return "/bin/hook"; }
            @Override public Attempt deliver(FileEvent e) throws InterruptedException {
                busy.countDown();
                release.await();
                return Attempt.delivered("exit", "0");
            }
        };
        EventHooks h = hooks(SETTINGS.withQueue(1).withWorkers(1), blocking);
        h.delete(ALICE, VirtualPath.of("/1"), 1);
        assertThat(busy.await(10, TimeUnit.SECONDS)).isTrue();   // the worker holds event 1
        h.delete(ALICE, VirtualPath.of("/2"), 1);                 // waits in the queue
        h.delete(ALICE, VirtualPath.of("/3"), 1);                 // no room

        assertThat(counted.outcomes).containsExactly("dropped");
        assertThat(h.queued()).isEqualTo(1);
        assertThat(messages()).singleElement().asString().contains("event=hook-dropped", "path=/3", "reason=queue-full",
                "queue=1");
        release.countDown();
        h.close(Duration.ofSeconds(10));
        assertThat(counted.outcomes).containsExactly("dropped", "command:delivered", "command:delivered");
    }

    @Test
    void stoppingDeliversWhatIsQueued() throws Exception {
        Scripted action = new Scripted(Attempt.delivered("status", "204"));
        EventHooks h = hooks(SETTINGS.withWorkers(1), action);
        for (int i = 0; i < 20; i++) {
            h.delete(ALICE, VirtualPath.of("/f" + i), i);
        }
        h.close(Duration.ofSeconds(10));

        assertThat(action.seen).hasSize(20);
        assertThat(counted.outcomes).hasSize(20).containsOnly("webhook:delivered");
    }

    @Test
    void aPartialFileIsReportedWhenRenamedIntoPlace(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("report.pdf"), "final bytes");
        Scripted action = new Scripted(Attempt.delivered("status", "200"));
        EventHooks h = hooks(SETTINGS.withWorkers(1), action);
        LocalStorage storage = new LocalStorage(dir);

        h.upload(ALICE, VirtualPath.of("/report.pdf.filepart"), storage);   // not reported
        h.rename(ALICE, VirtualPath.of("/report.pdf.filepart"), VirtualPath.of("/report.pdf"), storage);
        h.rename(ALICE, VirtualPath.of("/a.part"), VirtualPath.of("/b"), storage);   // not the same name: a rename
        h.rename(ALICE, VirtualPath.of("/.part"), VirtualPath.of("/x"), storage);    // a bare suffix is a name
        h.close(Duration.ofSeconds(10));

        List<FileEvent> seen = new ArrayList<>(action.seen);
        assertThat(seen).extracting(e -> e.kind() + " " + e.path() + " " + e.target())
                .containsExactly("UPLOAD /report.pdf null", "RENAME /a.part /b", "RENAME /.part /x");
        FileEvent upload = seen.get(0);
        assertThat(upload.size()).isEqualTo(11);
        assertThat(upload.sha256()).isEqualTo(HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest("final bytes".getBytes())));
        assertThat(upload.server()).isEqualTo("s1");
        assertThat(upload.time()).isEqualTo(NOW);
    }

    @Test
    void aDirectoryNamedLikeAPartialFileIsRenamedNotUploaded(@TempDir Path dir) throws Exception {
        Files.createDirectory(dir.resolve("photos"));
        Scripted action = new Scripted(Attempt.delivered("status", "200"));
        EventHooks h = hooks(SETTINGS.withWorkers(1), action);
        h.rename(ALICE, VirtualPath.of("/photos.part"), VirtualPath.of("/photos"), new LocalStorage(dir));
        h.close(Duration.ofSeconds(10));

        assertThat(action.seen).extracting(e -> e.kind() + " " + e.path() + " " + e.target())
                .containsExactly("RENAME /photos.part /photos");
    }

    @Test
    void onlyTheChosenKindsAreQueued() throws Exception {
        Scripted action = new Scripted(Attempt.delivered("status", "200"));
        EventHooks h = hooks(SETTINGS.withOn(java.util.Set.of(Kind.DELETE)), action);
        h.rename(ALICE, VirtualPath.of("/a"), VirtualPath.of("/b"), null);
        h.delete(ALICE, VirtualPath.of("/a"), 0);
        h.close(Duration.ofSeconds(10));

        assertThat(action.seen).extracting(FileEvent::kind).containsExactly(Kind.DELETE);
    }

    @Test
    void anUploadGoneBeforeItWasReadHasNoHash(@TempDir Path dir) throws Exception {
        FileEvent e = new FileEvent(Kind.UPLOAD, "alice", VirtualPath.of("/gone"), null, -1, null, null, "s1", "c1", NOW);
        FileEvent read = EventHooks.withContent(e, new LocalStorage(dir));

        assertThat(read.size()).isEqualTo(-1);
        assertThat(read.sha256()).isNull();
        assertThat(read.json()).contains("\"size\":null", "\"sha256\":null", "\"client\":null");
    }

    @Test
    void theJsonEscapesWhatAPathMayHold() throws Exception {
        FileEvent e = new FileEvent(Kind.RENAME, "al\u0001ice", VirtualPath.of("/a \"q\"\\b"), VirtualPath.of("/t"), 5,
                null, "127.0.0.5:40000", "s1", "c7", NOW);

        assertThat(e.json()).isEqualTo("{\"event\":\"rename\",\"user\":\"al\\u0001ice\",\"path\":\"/a \\\"q\\\"\\\\b\","
                + "\"target\":\"/t\",\"size\":5,\"sha256\":null,\"client\":\"127.0.0.5:40000\",\"server\":\"s1\","
                + "\"session\":\"c7\",\"time\":\"2026-12-07T19:00:00Z\"}");
        assertThat(e.environment()).containsEntry("FERRY_EVENT", "rename").containsEntry("FERRY_TARGET", "/t")
                .containsEntry("FERRY_SIZE", "5").containsEntry("FERRY_SHA256", "");
    }

    /** SECURITY: a token in the URL's user info or query never reaches a log line. */
    @Test
    void theLoggedWebhookHasNoUserInfoOrQuery() {
        assertThat(EventSettings.loggable(URI.create("https://user:pw@hooks.example.com/ferry/up?token=s3cret")))
                .isEqualTo("https://hooks.example.com:443/ferry/up");
        assertThat(EventSettings.loggable(URI.create("http://127.0.0.1:8080?key=x"))).isEqualTo("http://127.0.0.1:8080/");
    }
}
