package dev.ferry.server.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ObjectStoreTest {

    @Test
    void anAddressNamesBucketAndPrefix() {
        ObjectStore s = ObjectStore.parseUrl("s3://files/ftp/srv/");
        assertThat(s.bucket()).isEqualTo("files");
        assertThat(s.prefix()).isEqualTo("ftp/srv");
        assertThat(s.url()).isEqualTo("s3://files/ftp/srv");
        assertThat(s.region()).isEqualTo(ObjectStore.DEFAULT_REGION);
        assertThat(s.partSize()).isEqualTo(ObjectStore.DEFAULT_PART_SIZE);

        ObjectStore whole = ObjectStore.parseUrl("s3://files");
        assertThat(whole.prefix()).isEmpty();
        assertThat(whole.url()).isEqualTo("s3://files");
    }

    @Test
    void otherAddressesAreRefused() {
        assertThatThrownBy(() -> ObjectStore.parseUrl("http://files/x")).hasMessageContaining("s3://BUCKET");
        assertThatThrownBy(() -> ObjectStore.parseUrl("s3:///x")).hasMessageContaining("bucket name");
        assertThatThrownBy(() -> ObjectStore.parseUrl("s3://")).hasMessageContaining("bucket name");
    }

    @Test
    void aHomeIsThePrefixOfItsPathBelowTheRoot() {
        Path root = Path.of("/srv/ftp");
        ObjectStore s = ObjectStore.parseUrl("s3://files/ftp");
        assertThat(s.homePrefix(root, root)).isEqualTo("ftp/");
        assertThat(s.homePrefix(root, root.resolve("alice"))).isEqualTo("ftp/alice/");
        assertThat(s.homePrefix(root, root.resolve("team/bob/../carol"))).isEqualTo("ftp/team/carol/");

        ObjectStore whole = ObjectStore.parseUrl("s3://files");
        assertThat(whole.homePrefix(root, root)).isEmpty();
        assertThat(whole.homePrefix(root, root.resolve("alice"))).isEqualTo("alice/");
    }

    @Test
    void aHomeOutsideTheRootHasNoPrefix() {
        ObjectStore s = ObjectStore.parseUrl("s3://files");
        assertThatThrownBy(() -> s.homePrefix(Path.of("/srv/ftp"), Path.of("/srv/ftp/../etc")))
                .hasMessageContaining("not below the server root");
        assertThatThrownBy(() -> s.homePrefix(Path.of("/srv/ftp"), Path.of("/srv/ftpx/alice")))
                .hasMessageContaining("not below the server root");
    }

    @Test
    void limitsThatCannotWorkAreRefused() {
        ObjectStore s = ObjectStore.parseUrl("s3://files");
        assertThatThrownBy(() -> s.withPartSize(ObjectStore.MIN_PART_SIZE - 1)).hasMessageContaining("5 MiB");
        assertThatThrownBy(() -> s.withPartsInFlight(0)).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> s.withUploadMemory(ObjectStore.DEFAULT_PART_SIZE - 1))
                .hasMessageContaining("less than one part");
        assertThatThrownBy(() -> s.withRequestTimeout(Duration.ZERO)).hasMessageContaining("positive");
    }
}
