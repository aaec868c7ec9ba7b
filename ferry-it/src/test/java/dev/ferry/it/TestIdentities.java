package dev.ferry.it;

import dev.ferry.runtime.tls.TlsIdentity;
import dev.ferry.testkit.TestCertificates;

/** The test kit's certificates as ferry-runtime's identities (the kit depends on no ferry module). */
final class TestIdentities {

    private TestIdentities() {
    }

    static TlsIdentity of(TestCertificates.Identity made) {
        return new TlsIdentity(made.key(), made.chain(), "test", false);
    }
}
