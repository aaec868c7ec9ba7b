package dev.ferry.server.fs;

import static dev.ferry.server.fs.LocalStorageJailTest.virtual;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** server.umask: what users create gets 0666 / 0777 without the umask's bits, whatever the process umask is. */
class FileModesTest {

    @TempDir
    Path home;

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    @ParameterizedTest(name = "umask {0}: files {1}, directories {2}")
    @CsvSource({
            "022, rw-r--r--, rwxr-xr-x",
            "027, rw-r-----, rwxr-x---",
            "077, rw-------, rwx------",
            "002, rw-rw-r--, rwxrwxr-x",
            "000, rw-rw-rw-, rwxrwxrwx"})
    void everyWayOfCreatingGetsTheModeOfTheUmask(String umask, String file, String directory) throws Exception {
        LocalStorage storage = new LocalStorage(home, new FileModes(Integer.parseInt(umask, 8)));

        storage.createDirectory(virtual("/made"));
        for (UploadMode mode : new UploadMode[] {UploadMode.REPLACE, UploadMode.APPEND, UploadMode.RESUME}) {
            try (Upload upload = storage.openUpload(virtual("/made/" + mode), mode, 0)) {
                upload.channel().write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
                upload.commit();
            }
        }
        VirtualPath unique = storage.createUnique(virtual("/made"), "u");

        assertThat(mode(home.resolve("made"))).isEqualTo(directory);
        for (UploadMode mode : new UploadMode[] {UploadMode.REPLACE, UploadMode.APPEND, UploadMode.RESUME}) {
            assertThat(mode(home.resolve("made/" + mode))).as("%s", mode).isEqualTo(file);
        }
        assertThat(mode(home.resolve("made").resolve(unique.name()))).as("STOU").isEqualTo(file);
    }

    @ParameterizedTest
    @CsvSource({"0644, rw-r--r--", "0755, rwxr-xr-x", "0, ---------", "0777, rwxrwxrwx"})
    void bitsToPermissions(String octal, String text) {
        assertThat(PosixFilePermissions.toString(FileModes.permissions(Integer.parseInt(octal, 8)))).isEqualTo(text);
    }
}
