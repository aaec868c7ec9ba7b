package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Uploads cut short by the client leave the file exactly as it was, whatever the command: STOR (a temp
 * file, never published), APPE, REST+STOR and STOU (in place, undone). "Cut short" as it happens: a client
 * process killed (kill -9) mid-upload, whose kernel ends the data connection as cleanly as a finished one,
 * and at the same time its control connection; and a client that resets its data connection. The server
 * listens on 127.0.0.2, the clients come from 127.0.0.1.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class InterruptedUploadTest {

    private static final String HOST = "127.0.0.2";

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension()
            .configure(s -> s.withListen(new InetSocketAddress(HOST, 0)));

    private static final int MB = 1024 * 1024;
    private static final int OLD_SIZE = 50 * MB;
    private static final int ROUNDS = 8;

    /**
     * The scenario, repeated: a 50 MB file is being replaced when the client process is killed after
     * about 20 MB. Before the control connection was looked at, the server read the data connection's end
     * first in 5 of 8 rounds, committed the partial file and logged result=ok. Rounds alternate between
     * Python's ftplib and curl.
     */
    @Test
    void aClientKilledMidStorNeverReplacesTheOldFile() throws Exception {
        Path target = ferry.root().resolve("big.bin");
        String old = TestData.sha256(TestData.randomFile(target, OLD_SIZE, 7));
        FileTime oldTime = Files.getLastModifiedTime(target);
        Map<String, Integer> results = new TreeMap<>();

        for (int round = 0; round < ROUNDS; round++) {
            int transfersBefore = transferLines().size();
            if (round % 2 == 0) {
                try (StallingUpload upload = StallingUpload.start(ferry.clientDir(), HOST, ferry.port(), "STOR big.bin",
                        -1, 20 * MB, 0, StallingUpload.Then.WAIT)) {
                    upload.kill();
                }
            } else {
                killCurlAfter(20 * MB, "/big.bin");
            }
            String line = awaitTransferLine(transfersBefore);
            String result = line.substring(line.indexOf("result=") + "result=".length());
            results.merge((round % 2 == 0 ? "ftplib " : "curl ") + result, 1, Integer::sum);

            assertThat(result).as("round %d: %s", round, line).isNotEqualTo("ok");
            assertThat(TestData.sha256(target)).as("round %d: the old file", round).isEqualTo(old);
            assertThat(Files.getLastModifiedTime(target)).isEqualTo(oldTime);
            assertThat(TestData.names(ferry.root())).as("round %d: no temp file left", round).containsExactly("big.bin");
        }
        System.out.println("InterruptedUploadTest: client killed mid-STOR, " + ROUNDS + " rounds, old file intact in all; results "
                + results);
    }

    /** curl uploading from its standard input, killed once {@code bytes} were written to it and reached the server. */
    private void killCurlAfter(int bytes, String path) throws Exception {
        ExternalCommand.requireInstalled("curl");
        Process curl = new ProcessBuilder("curl", "-sS", "--max-time", "60", "-u",
                FerryServerExtension.USER + ":" + FerryServerExtension.PASSWORD, "-T", "-",
                "ftp://" + HOST + ":" + ferry.port() + path)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            OutputStream in = curl.getOutputStream();
            byte[] chunk = TestData.random(MB, 11);
            for (int sent = 0; sent < bytes; sent += chunk.length) {
                in.write(chunk);
            }
            in.flush();
            // Most of it is in the server's hands (its temp file) when curl dies; the rest is in flight.
            TestData.await("curl's bytes reach the server", () -> tempBytes() >= bytes - 4L * MB);
        } finally {
            ExternalCommand.kill(curl);
        }
    }

    /** Size of the upload temp file in the root (stat only: reading it here would drop the server's lock on it). */
    private long tempBytes() throws IOException {
        long size = 0;
        for (String name : TestData.names(ferry.root())) {
            if (name.startsWith(".ferry-upload-")) {
                size = Math.max(size, Files.size(ferry.root().resolve(name)));
            }
        }
        return size;
    }

    /**
     * APPE, REST+STOR (before the end and at it) and STOU, cut short both ways: the file is exactly as
     * before, byte for byte and modification time, and no STOU file or temp file is left.
     */
    @ParameterizedTest(name = "{0} then {1}")
    @CsvSource({
            "STOR doc.bin, -1, WAIT", "STOR doc.bin, -1, RESET",
            "APPE doc.bin, -1, WAIT", "APPE doc.bin, -1, RESET",
            "STOR doc.bin, 300000, WAIT", "STOR doc.bin, 300000, RESET",
            "STOR doc.bin, 1000000, WAIT", "STOR doc.bin, 1000000, RESET",
            "STOU doc.bin, -1, WAIT", "STOU doc.bin, -1, RESET",
    })
    void anyUploadCutShortLeavesTheFileAsItWas(String command, long rest, StallingUpload.Then then) throws Exception {
        Path target = ferry.root().resolve("doc.bin");
        String old = TestData.sha256(TestData.randomFile(target, 1_000_000, 13));
        FileTime oldTime = FileTime.fromMillis(1_600_000_000_000L);
        Files.setLastModifiedTime(target, oldTime);
        int transfersBefore = transferLines().size();

        try (StallingUpload upload = StallingUpload.start(ferry.clientDir(), HOST, ferry.port(), command, rest,
                2 * MB, 0, then)) {
            if (then == StallingUpload.Then.WAIT) {
                upload.kill();
            } else {
                // RFC 959 §4.2: 426, the connection was closed and the transfer aborted.
                assertThat(upload.reply()).startsWith("426 ");
            }
        }
        String line = awaitTransferLine(transfersBefore);

        assertThat(line).doesNotContain("result=ok");
        assertThat(TestData.sha256(target)).isEqualTo(old);
        assertThat(Files.getLastModifiedTime(target)).isEqualTo(oldTime);
        assertThat(TestData.names(ferry.root())).containsExactly("doc.bin");
    }

    /** The same clients, not cut short: what they sent is stored (the checks above do not refuse everything). */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"STOR doc.bin, -1, 0", "APPE doc.bin, -1, 1000000", "STOR doc.bin, 300000, 300000", "STOR doc.bin, 1000000, 1000000"})
    void theSameUploadsFinishedAreStored(String command, long rest, int keep) throws Exception {
        Path target = ferry.root().resolve("doc.bin");
        byte[] old = TestData.randomFile(target, 1_000_000, 13);

        try (StallingUpload upload = StallingUpload.start(ferry.clientDir(), HOST, ferry.port(), command, rest,
                2 * MB, 1 * MB, StallingUpload.Then.FINISH)) {
            upload.go();
            assertThat(upload.reply()).isEqualTo("226 Transfer complete (" + 3 * MB + " bytes).");
        }

        byte[] expected = new byte[keep + 3 * MB];
        System.arraycopy(old, 0, expected, 0, keep);
        System.arraycopy(StallingUpload.content(0, 3 * MB), 0, expected, keep, 3 * MB);
        assertThat(TestData.sha256(target)).isEqualTo(TestData.sha256(expected));
        assertThat(TestData.names(ferry.root())).containsExactly("doc.bin");
    }

    private List<String> transferLines() {
        return new ArrayList<>(ferry.logLines().stream().filter(l -> l.contains("event=transfer ")).toList());
    }

    /** The transfer line logged after {@code before} of them: the upload's end, after its undo or cleanup. */
    private String awaitTransferLine(int before) throws Exception {
        TestData.within(Duration.ofSeconds(30), "the upload's transfer line", () -> transferLines().size() > before);
        return transferLines().get(before);
    }
}
