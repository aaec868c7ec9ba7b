package dev.ferry.it;

import static dev.ferry.it.FerryServerExtension.PASSWORD;
import static dev.ferry.it.FerryServerExtension.READER;
import static dev.ferry.it.FerryServerExtension.READER_PASSWORD;
import static dev.ferry.it.FerryServerExtension.USER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.protocol.command.Verb;
import dev.ferry.server.ServerSettings;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Seeded garbage on the control connection: {@value #SESSIONS} concurrent sessions each send
 * {@value #LINES_PER_SESSION} random lines (random bytes with NUL, 0xFF, lone CRs; very long lines;
 * random verbs with random arguments; edge-case commands), in pipelined batches. Every line must get
 * exactly one final reply (optionally after a 1xx) that obeys the reply grammar, or the session must
 * end with 421 (too many failed logins) or 221 (QUIT) and then close. A sentinel NOOP closes each
 * batch, so a missing or extra reply shows up at once as a misaligned reply. Meanwhile a normal
 * client keeps downloading a file byte-exact, and once more at the end.
 *
 * <p>Sessions are split three ways: not logged in (the pre-login grammar), a read-only account,
 * and a writable account jailed in its own home (so random DELE/RMD cannot touch the normal
 * client's file). The seed is printed; repeat a run with {@code -Dferry.fuzz.seed=N}.
 */
class ControlFuzzTest {

    private static final int SESSIONS = 8;
    private static final int LINES_PER_SESSION = 300;
    private static final String FUZZER = "fuzzer";

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension();

    private static final List<String> VERBS = verbs();
    private static final List<String> EDGE_COMMANDS = List.of(
            "PORT 127,0,0,1,0,21", "PORT 127,0,0,2,4,1", "PORT 300,1,1,1,1,1", "PORT 1,2,3,4,5", "PORT ,,,,,",
            "EPRT |1|127.0.0.2|2000|", "EPRT |2|::1|1|", "EPRT |9|x|1|", "EPRT ||||", "EPRT |1|127.0.0.1|99999|",
            "EPSV ALL", "EPSV 3", "EPSV 99999", "EPSV", "PASV", "TYPE E", "TYPE A", "TYPE I", "TYPE L 7", "TYPE A T",
            "REST 100", "REST -1", "REST 99999999999999999999", "REST 0x10", "RETR ../../etc/passwd", "RETR /",
            "LIST -la /", "LIST -", "NLST ..", "MLSD /", "MLSD nothing", "MLST /", "MLST ../..", "STAT /",
            "STAT", "STAT -l", "SIZE /", "MDTM /", "HASH /", "HASH ..", "OPTS MLST type;", "OPTS MLST ;;;;",
            "OPTS HASH MD5", "OPTS HASH CRC32", "OPTS UTF8 OFF", "OPTS", "OPTS X Y", "HELP SITE", "HELP", "SITE HELP",
            "SITE", "SITE EXEC /bin/sh", "ABOR", "REIN", "HOST [::1]", "HOST a..b", "HOST [zz]", "HOST -",
            "MFMT 20201301000000 x", "MFMT x", "MFMT 20200101000000", "MFMT 20200101000000.999 /", "RNFR /",
            "RNTO /", "RNFR .", "CWD /", "CWD", "CDUP", "XPWD", "XCUP", "AUTH TLS", "AUTH SSL", "PBSZ 0", "PROT P",
            "STOU", "STOU ../../x", "APPE x", "ALLO 1", "ALLO", "ACCT x", "USER anonymous", "USER ftp", "USER",
            "MKD /", "MKD ..", "RMD /", "DELE /", "SIZE \u65e5\u672c", "CWD \u00e9t\u00e9", "NOOP", "SYST", "FEAT");
    private static final List<String> ARGUMENTS = List.of(
            "/", ".", "..", "../..", "a/b/c", "//", "%2e%2e", "\\..\\..", "C:\\x", "~", "*", "-la", "a b",
            "\u65e5\u672c\u8a9e", "caf\u00e9", "\ud83d\ude00", "-1", "0", "18446744073709551616", ";", "type;size;",
            "ALL", "1", "2", "|1|127.0.0.1|1025|", "127,0,0,1,4,1", ".ferry-upload-x", "\"quoted\"", "x\"y");

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void everyGarbageLineGetsOneWellFormedReplyWhileANormalClientIsServed() throws Exception {
        long seed = Long.getLong("ferry.fuzz.seed", System.nanoTime());
        System.out.println("ControlFuzzTest seed=" + seed + " (repeat with -Dferry.fuzz.seed=" + seed + ")");

        Path fuzzHome = Files.createDirectories(ferry.root().resolve("fuzz-home"));
        byte[] payload = TestData.randomFile(ferry.root().resolve("payload.bin"), 512 * 1024, seed);
        String payloadSha = TestData.sha256(payload);
        ferry.restart(s -> s
                .withUsers(List.of(
                        new ServerSettings.UserAccount(USER, FerryServerExtension.hash(PASSWORD), null, true, true),
                        new ServerSettings.UserAccount(READER, FerryServerExtension.hash(READER_PASSWORD), null, false, true),
                        new ServerSettings.UserAccount(FUZZER, FerryServerExtension.hash(PASSWORD), fuzzHome, true, true)), null)
                .withPassive(FerryServerExtension.passiveAcceptTimeout(s.passive(), Duration.ofSeconds(2)))
                .withLimits(new ServerSettings.Limits(100, 50, Duration.ofMinutes(1), Duration.ofSeconds(2), 4096,
                        Duration.ofMinutes(1)))
                // The clear-text grammar is fuzzed here: an accepted AUTH TLS would turn the rest of a fuzz
                // session into a failed handshake (FtpsProtocolTest covers what clients that break TLS get).
                .withTls(s.tls().withEnabled(false)));

        AtomicBoolean fuzzing = new AtomicBoolean(true);
        AtomicInteger downloadsDuringFuzz = new AtomicInteger();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<?> normal = pool.submit(() -> {
                while (fuzzing.get()) {
                    assertThat(download()).as("normal client's download during fuzzing, seed %d", seed).isEqualTo(payloadSha);
                    downloadsDuringFuzz.incrementAndGet();
                }
                return null;
            });
            List<Future<SessionStats>> fuzzers = new ArrayList<>();
            for (int i = 0; i < SESSIONS; i++) {
                int index = i;
                fuzzers.add(pool.submit(() -> new FuzzSession(index, seed).run()));
            }
            List<SessionStats> stats = new ArrayList<>();
            try {
                for (Future<SessionStats> f : fuzzers) {
                    stats.add(f.get(100, TimeUnit.SECONDS));
                }
            } catch (ExecutionException e) {
                throw new AssertionError("fuzz session failed, seed " + seed + ": " + e.getCause().getMessage(), e.getCause());
            } finally {
                fuzzing.set(false);
            }
            normal.get(30, TimeUnit.SECONDS);
            System.out.println("ControlFuzzTest seed=" + seed + " sessions: " + stats + ", normal downloads: " + downloadsDuringFuzz);
            assertThat(stats).allSatisfy(s -> assertThat(s.lines()).isEqualTo(LINES_PER_SESSION));
        }
        assertThat(downloadsDuringFuzz.get()).isPositive();
        assertThat(download()).as("download after fuzzing, seed %d", seed).isEqualTo(payloadSha);
        assertThat(ferry.root().resolve("payload.bin")).exists();
    }

    private String download() throws IOException {
        FTPClient c = new FTPClient();
        c.setDefaultTimeout(10_000);
        c.connect("127.0.0.1", ferry.port());
        try {
            c.setSoTimeout(10_000);
            assertThat(c.login(USER, PASSWORD)).isTrue();
            c.enterLocalPassiveMode();
            c.setFileType(FTP.BINARY_FILE_TYPE);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThat(c.retrieveFile("payload.bin", out)).as(c.getReplyString()).isTrue();
            c.logout();
            return TestData.sha256(out.toByteArray());
        } finally {
            c.disconnect();
        }
    }

    /** What one fuzz session did. */
    record SessionStats(int index, int lines, int finalReplies, int preliminaryReplies, int sessionsEnded) {}

    /** One fuzzing client; the login mode is its index modulo 3. */
    private final class FuzzSession {
        private final int index;
        private final Random random;
        private final long seed;
        private RawFtp ftp;
        private int lines;
        private int finals;
        private int preliminaries;
        private int ended;

        FuzzSession(int index, long seed) {
            this.index = index;
            this.seed = seed;
            this.random = new Random(seed * 31 + index);
        }

        SessionStats run() throws IOException {
            open();
            try {
                while (lines < LINES_PER_SESSION) {
                    batch(Math.min(1 + random.nextInt(4), LINES_PER_SESSION - lines));
                }
            } finally {
                ftp.close();
            }
            return new SessionStats(index, lines, finals, preliminaries, ended);
        }

        private void open() throws IOException {
            ftp = RawFtp.greeted(ferry.port());
            switch (index % 3) {
                case 1 -> ftp.login(READER, READER_PASSWORD);
                case 2 -> ftp.login(FUZZER, PASSWORD);
                default -> { }
            }
        }

        private void batch(int size) throws IOException {
            List<byte[]> batch = new ArrayList<>();
            List<Boolean> mayEnd = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                boolean ending = random.nextInt(40) == 0;
                if (!ending) {
                    batch.add(line());
                    mayEnd.add(false);
                    continue;
                }
                if (random.nextBoolean()) {
                    batch.add(terminated("QUIT"));
                } else {
                    // A wrong password; the third failure in a session ends it with 421 (RFC 2577 §5).
                    if (random.nextBoolean() && batch.size() < size - 1) {
                        batch.add(terminated("USER " + USER));
                        mayEnd.add(false);
                    }
                    batch.add(terminated("PASS " + printable(random.nextInt(20))));
                }
                mayEnd.add(true);
                break;   // nothing after a line that may end the session: unread bytes would reset the connection
            }
            boolean sentinel = !mayEnd.getLast();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            batch.forEach(bytes::writeBytes);
            if (sentinel) {
                bytes.writeBytes("NOOP\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            ftp.sendRaw(bytes.toByteArray());
            for (int i = 0; i < batch.size(); i++) {
                lines++;
                RawFtp.Reply reply = finalReply(batch.get(i));
                if (reply.code() == 421 || reply.code() == 221) {
                    if (!mayEnd.get(i)) {
                        throw failure("a " + reply.code() + " for a line that cannot end the session", batch.get(i), reply);
                    }
                    if (!ftp.closedByServer()) {
                        throw failure("the connection stayed open after " + reply.code(), batch.get(i), reply);
                    }
                    ended++;
                    ftp.close();
                    open();
                    return;
                }
            }
            if (sentinel) {
                RawFtp.Reply noop = ftp.reply();
                if (!noop.toString().equals("200 NOOP ok.")) {
                    throw failure("replies out of step: the sentinel NOOP got '" + noop + "'", bytes.toByteArray(), noop);
                }
            }
        }

        /** The final reply to one line, after any 1xx; checks its code. */
        private RawFtp.Reply finalReply(byte[] line) throws IOException {
            while (true) {
                RawFtp.Reply r;
                try {
                    r = ftp.reply();
                } catch (EOFException e) {
                    throw failure("the server closed the connection without 421", line, null);
                } catch (RawFtp.ProtocolViolation e) {
                    throw failure(e.getMessage(), line, null);
                }
                if (r.code() < 200) {
                    preliminaries++;
                    continue;
                }
                if (r.code() >= 600) {
                    throw failure("reply code out of range", line, r);
                }
                finals++;
                return r;
            }
        }

        private AssertionError failure(String what, byte[] line, RawFtp.Reply reply) {
            return new AssertionError("session " + index + " (seed " + seed + ", line " + lines + "): " + what
                    + "; line sent: " + escape(line) + (reply == null ? "" : "; reply: " + reply));
        }

        private byte[] line() {
            return switch (random.nextInt(10)) {
                case 0, 1 -> terminated(randomBytes(random.nextInt(120)));
                case 2 -> terminated(printable(4000 + random.nextInt(8000)));
                case 3 -> terminated(randomCase(pick(VERBS)) + " a\rb" + (random.nextBoolean() ? "\r" : ""));
                case 4, 5, 6 -> terminated(randomCase(pick(VERBS)) + (random.nextInt(5) == 0 ? "" : " " + argument()));
                case 7, 8 -> terminated(pick(EDGE_COMMANDS));
                default -> terminated(pick(VERBS) + " " + argument() + "\0" + argument());
            };
        }

        private String argument() {
            return switch (random.nextInt(4)) {
                case 0 -> pick(ARGUMENTS);
                case 1 -> printable(random.nextInt(300));
                case 2 -> pick(ARGUMENTS) + "/" + pick(ARGUMENTS);
                default -> "x".repeat(random.nextInt(600));
            };
        }

        private byte[] terminated(String text) {
            return terminated(text.getBytes(StandardCharsets.UTF_8));
        }

        /** The line end: CRLF, bare LF, or CR CR LF. */
        private byte[] terminated(byte[] body) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(body);
            switch (random.nextInt(6)) {
                case 0 -> out.write('\n');
                case 1 -> out.writeBytes(new byte[] {'\r', '\r', '\n'});
                default -> out.writeBytes(new byte[] {'\r', '\n'});
            }
            return out.toByteArray();
        }

        /**
         * Random bytes without LF, including NUL, CR and 0xFF. An 0xFF (Telnet IAC) always gets the
         * byte(s) its Telnet command consumes, none of them LF, so the line still ends where the
         * test thinks it does.
         */
        private byte[] randomBytes(int length) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int i = 0; i < length; i++) {
                int b = random.nextInt(8) == 0 ? 0xFF : random.nextInt(256);
                if (b == '\n') {
                    continue;
                }
                out.write(b);
                if (b == 0xFF) {
                    int command = notLf();
                    out.write(command);
                    if (command >= 251 && command <= 254) {   // WILL, WONT, DO, DONT take an option byte
                        out.write(notLf());
                    }
                }
            }
            return out.toByteArray();
        }

        private int notLf() {
            int b;
            do {
                b = random.nextInt(256);
            } while (b == '\n');
            return b;
        }

        private String printable(int length) {
            StringBuilder b = new StringBuilder(length);
            for (int i = 0; i < length; i++) {
                b.append((char) (0x20 + random.nextInt(0x5F)));
            }
            return b.toString();
        }

        private String randomCase(String verb) {
            return random.nextBoolean() ? verb : verb.toLowerCase(Locale.ROOT);
        }

        private String pick(List<String> from) {
            return from.get(random.nextInt(from.size()));
        }
    }

    /** Every verb except QUIT and PASS (which may end the session and are sent on purpose), plus unknown ones. */
    private static List<String> verbs() {
        List<String> verbs = new ArrayList<>();
        for (Verb v : Verb.values()) {
            if (v != Verb.QUIT && v != Verb.PASS) {
                verbs.add(v.name());
            }
        }
        verbs.addAll(List.of("XCWD", "XPWD", "XMKD", "XRMD", "XCUP", "FOO", "RETRX", "LS", "GET", "CHMOD", "\u00c9T\u00c9"));
        return List.copyOf(verbs);
    }

    private static String escape(byte[] bytes) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < bytes.length && b.length() < 400; i++) {
            int c = bytes[i] & 0xFF;
            b.append(c >= 0x20 && c < 0x7F && c != '\\' ? String.valueOf((char) c) : String.format("\\x%02x", c));
        }
        return b.length() >= 400 ? b + "... (" + bytes.length + " bytes)" : b.toString();
    }
}
