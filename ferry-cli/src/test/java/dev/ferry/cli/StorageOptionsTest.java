package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.config.ConfigException;
import dev.ferry.config.ServerConfigFile;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.fs.ObjectStore;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** --storage and the --s3-* flags: what they set, how they override the file, and what they refuse in the file's words. */
class StorageOptionsTest {

    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    private ServerSettings server(String... args) throws ConfigException {
        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs(args);
        return command.settings();
    }

    private String serverError(String... args) {
        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs(args);
        try {
            command.settings();
        } catch (IllegalArgumentException | ConfigException e) {
            return e.getMessage();
        }
        throw new AssertionError("accepted: " + List.of(args));
    }

    @Test
    void everyFlagSetsItsSetting() throws Exception {
        Path credentials = Files.writeString(dir.resolve("s3.ini"), "[default]\n");

        ServerSettings s = server("--state-dir", dir.toString(), "--storage", "s3://ferry/srv",
                "--s3-endpoint", "http://127.0.0.1:9000", "--s3-region", "eu-west-1", "--s3-path-style",
                "--s3-credentials-file", credentials.toString(), "--s3-part-size", "16MiB", "--s3-parts-in-flight", "2",
                "--s3-upload-memory", "64MiB");

        assertThat(s.objectStore()).isEqualTo(new ObjectStore("ferry", "srv", URI.create("http://127.0.0.1:9000"),
                "eu-west-1", true, credentials, (int) (16 * MIB), 2, 64 * MIB, ObjectStore.DEFAULT_REQUEST_TIMEOUT));
        assertThat(s.root()).as("no --root: homes are relative to /").isEqualTo(Path.of("/"));
    }

    @Test
    void rootStaysWhatItSaysWithStorage() throws Exception {
        ServerSettings s = server("--state-dir", dir.toString(), "--storage", "s3://ferry", "--root", "/srv/ftp");

        assertThat(s.root()).isEqualTo(Path.of("/srv/ftp"));
        assertThat(s.objectStore().url()).isEqualTo("s3://ferry");
    }

    @Test
    void flagsOverrideTheFilesStoreKeyByKey() throws Exception {
        Path config = Files.writeString(dir.resolve("ferry.yaml"), """
                server:
                  state-directory: .
                  storage:
                    bucket: ferry
                    prefix: a
                    endpoint: http://127.0.0.1:9000
                    path-style: true
                    request-timeout: 5s
                """);

        ServerSettings endpointOnly = server("--config", config.toString(), "--s3-endpoint", "https://s3.example.net");
        ServerSettings bucketOnly = server("--config", config.toString(), "--storage", "s3://other/b");
        ServerSettings local = server("--config", config.toString(), "--storage", "local", "--root", dir.toString());

        assertThat(endpointOnly.objectStore().endpoint()).isEqualTo(URI.create("https://s3.example.net"));
        assertThat(endpointOnly.objectStore().url()).isEqualTo("s3://ferry/a");
        assertThat(bucketOnly.objectStore().url()).isEqualTo("s3://other/b");
        assertThat(bucketOnly.objectStore().endpoint()).as("the file's endpoint stays").isEqualTo(URI.create("http://127.0.0.1:9000"));
        assertThat(bucketOnly.objectStore().requestTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(local.objectStore()).isNull();
    }

    @Test
    void storeSettingsWithoutAStoreAreRefused() {
        assertThat(serverError("--root", dir.toString(), "--s3-endpoint", "http://127.0.0.1:9000"))
                .isEqualTo("--s3-* options set the object store: give --storage s3://BUCKET[/PREFIX] (or server.storage in"
                        + " the config file)");
        assertThat(serverError("--root", dir.toString(), "--storage", "local", "--s3-path-style"))
                .endsWith(", not --storage local");
    }

    @Test
    void badValuesAreRefusedInTheFilesWords() throws Exception {
        assertThat(serverError("--storage", "ftp://x")).isEqualTo("--storage: expected s3://BUCKET[/PREFIX] or local,"
                + " got 'ftp://x' (only s3:// addresses are known)");
        assertThat(serverError("--storage", "s3://ferry", "--s3-endpoint", "ftp://minio"))
                .isEqualTo("--s3-endpoint: " + fileProblem("endpoint: ftp://minio"));
        assertThat(serverError("--storage", "s3://ferry", "--s3-part-size", "4MiB"))
                .isEqualTo("--s3-part-size: " + fileProblem("part-size: 4MiB"));
        assertThat(serverError("--storage", "s3://ferry", "--s3-part-size", "64MiB", "--s3-upload-memory", "32MiB"))
                .isEqualTo("--s3-upload-memory: " + fileProblem("part-size: 64MiB\n    upload-memory: 32MiB"));
        assertThat(serverError("--storage", "s3://ferry", "--s3-credentials-file", dir.resolve("none.ini").toString()))
                .isEqualTo("--s3-credentials-file: cannot read " + dir.resolve("none.ini") + " (no such file);"
                        + " expected an AWS credentials file with a [default] profile");
    }

    /** The problem the file states for {@code keys} under server.storage (with bucket ferry). */
    private String fileProblem(String keys) throws Exception {
        Path file = Files.writeString(dir.resolve("bad.yaml"), "server:\n  storage:\n    bucket: ferry\n    " + keys + "\n");
        try {
            ServerConfigFile.load(file, ServerSettings.defaults(dir));
        } catch (ConfigException e) {
            return e.problem().substring(e.problem().indexOf(": ") + 2);
        }
        throw new AssertionError("the file was accepted");
    }

    @Test
    void aFilesAccountsPutOnAnObjectStoreByTheFlagMustHaveHomesBelowTheRoot() throws Exception {
        Path config = Files.writeString(dir.resolve("ferry.yaml"), """
                server:
                  state-directory: .
                  root: /srv
                  users: [{name: bob, password: '%s', home: /elsewhere/bob}]
                """.formatted("$argon2id$v=19$m=65536,t=3,p=1$t9bE4WMekbwuyuAWFuDFOQ$qtij5sokYSheA4eOxonuCiLiyofl2VnIb6ahem5Tnk0"));

        assertThat(serverError("--config", config.toString(), "--storage", "s3://ferry"))
                .isEqualTo("user 'bob': home /elsewhere/bob is not below the server root /srv; on object storage a home"
                        + " is the key prefix named by its path below the root");
    }

    @Test
    void theClusterTakesTheSameFlags() {
        ClusterCommand cluster = new ClusterCommand();
        List<String> args = new ArrayList<>(List.of("--storage", "s3://ferry/cluster", "--s3-endpoint", "http://127.0.0.1:9000",
                "--s3-path-style"));
        new CommandLine(cluster).parseArgs(args.toArray(String[]::new));

        ObjectStore store = cluster.storageOptions.apply(null);

        assertThat(store.url()).isEqualTo("s3://ferry/cluster");
        assertThat(store.pathStyle()).isTrue();
        assertThatThrownBy(() -> {
            ClusterCommand c = new ClusterCommand();
            new CommandLine(c).parseArgs("--s3-region", "eu-west-1");
            c.storageOptions.apply(null);
        }).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("--s3-* options set the object store");
    }
}
