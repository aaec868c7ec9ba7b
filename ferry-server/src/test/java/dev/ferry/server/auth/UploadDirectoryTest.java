package dev.ferry.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.protocol.command.Verb;
import dev.ferry.server.auth.UploadDirectory.Ruling;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.VirtualPath;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The upload directory /incoming as a table: verb, the path it acts on, a pending REST, the ruling. */
class UploadDirectoryTest {
    private final UploadDirectory incoming = new UploadDirectory(virtual("/incoming"));

    @ParameterizedTest(name = "{0} {1} rest={2} -> {3}")
    @CsvSource({
            // a new upload, anywhere below the directory
            "STOR, /incoming/f,       false, UPLOAD",
            "STOR, /incoming/sub/f,   false, UPLOAD",
            "STOU, /incoming,         false, UPLOAD",
            // REST + STOR resumes, that is overwrites, a file
            "STOR, /incoming/f,       true,  REFUSED",
            // nothing else touches what is there
            "APPE, /incoming/f,       false, REFUSED",
            "RETR, /incoming/f,       false, REFUSED",
            "SIZE, /incoming/f,       false, REFUSED",
            "MDTM, /incoming/f,       false, REFUSED",
            "HASH, /incoming/f,       false, REFUSED",
            "MLST, /incoming/f,       false, REFUSED",
            "LIST, /incoming,         false, REFUSED",
            "NLST, /incoming,         false, REFUSED",
            "MLSD, /incoming,         false, REFUSED",
            "STAT, /incoming,         false, REFUSED",
            "LIST, /incoming/f,       false, REFUSED",
            "DELE, /incoming/f,       false, REFUSED",
            "RNFR, /incoming/f,       false, REFUSED",
            "RNTO, /incoming/f,       false, REFUSED",
            "MKD,  /incoming/d,       false, REFUSED",
            "RMD,  /incoming/d,       false, REFUSED",
            "RMD,  /incoming,         false, REFUSED",
            // entering it is how clients upload
            "CWD,  /incoming,         false, OUTSIDE",
            // elsewhere the account's own rights decide (read-only for anonymous)
            "STOR, /pub/f,            false, OUTSIDE",
            "RETR, /pub/f,            false, OUTSIDE",
            "LIST, /,                 false, OUTSIDE",
            "RNTO, /pub/f,            false, OUTSIDE",
            // a sibling whose name starts alike is not inside (segments, not string prefixes)
            "RETR, /incoming2/f,      false, OUTSIDE",
            "STOR, /incomingx,        false, OUTSIDE",
    })
    void rules(Verb verb, String where, boolean restPending, Ruling expected) {
        assertThat(incoming.rule(verb, virtual(where), restPending)).isEqualTo(expected);
    }

    @Test
    void verbsWithoutAPathAreOutside() {
        for (Verb verb : Verb.values()) {
            assertThat(incoming.rule(verb, null, false)).as(verb.name()).isEqualTo(Ruling.OUTSIDE);
        }
    }

    @Test
    void everyVerbWithARightIsRefusedInsideButTheUploadsAndCwd() {
        Set<Verb> allowed = EnumSet.of(Verb.STOR, Verb.STOU, Verb.CWD);
        for (Verb verb : Verb.values()) {
            Ruling ruling = incoming.rule(verb, virtual("/incoming/f"), false);
            if (allowed.contains(verb) || verb.permission() == Verb.Permission.NONE) {
                assertThat(ruling).as(verb.name()).isNotEqualTo(Ruling.REFUSED);
            } else {
                assertThat(ruling).as(verb.name()).isEqualTo(Ruling.REFUSED);
            }
        }
    }

    @Test
    void theRefusalIs550AndSaysWhy() {
        assertThat(incoming.refusal().code()).isEqualTo(550);
        assertThat(incoming.refusal().lines().getFirst()).contains("write-only");
    }

    @Test
    void theHomeItselfCannotBeTheUploadDirectory() {
        assertThatThrownBy(() -> new UploadDirectory(VirtualPath.ROOT)).isInstanceOf(IllegalArgumentException.class);
    }

    private static VirtualPath virtual(String path) {
        try {
            return VirtualPath.of(path);
        } catch (InvalidVirtualPathException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
