package dev.ferry.balancer.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.balancer.backend.BackendReply;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Reading a backend's passive reply and writing the client's, as tables: no sockets, no session. */
class PassiveRewriteTest {

    private static final InetAddress BACKEND = address("10.0.0.7");

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiterString = "=>", value = {
            "227 Entering Passive Mode (10,0,0,7,195,80).        => 50000",
            // The backend's own host always: a 227 naming another host is not followed (no bounce through us).
            "227 Entering Passive Mode (192,168,9,9,4,1).        => 1025",
            "227 =127,0,0,1,200,1                                => 51201",
            "229 Entering Extended Passive Mode (|||40001|).     => 40001"})
    void theBackendsPortIsOnTheBackendsHost(String reply, int port) throws Exception {
        assertThat(PassiveRewrite.backendPort(Integer.parseInt(reply.substring(0, 3)), List.of(reply), BACKEND))
                .isEqualTo(new InetSocketAddress(BACKEND, port));
    }

    @ParameterizedTest
    @CsvSource({"200 PORT command successful.", "425 Can't open data connection.", "502 PASV not implemented."})
    void otherRepliesCarryNoPort(String reply) throws Exception {
        assertThat(PassiveRewrite.backendPort(Integer.parseInt(reply.substring(0, 3)), List.of(reply), BACKEND)).isNull();
    }

    @ParameterizedTest
    @CsvSource(delimiterString = "=>", value = {"227 Entering Passive Mode.", "227 (10,0,0,7,0,0)", "229 Entering (|||0|)", "229 nothing"})
    void aPassiveReplyWithoutAPortIsHostile(String reply) {
        assertThatThrownBy(() -> PassiveRewrite.backendPort(Integer.parseInt(reply.substring(0, 3)), List.of(reply), BACKEND))
                .isInstanceOf(BackendReply.Hostile.class);
    }

    @Test
    void theClientIsToldTheBalancersAddressAndPort() throws Exception {
        Inet4Address advertised = (Inet4Address) InetAddress.getByName("203.0.113.5");
        assertThat(PassiveRewrite.toClient(false, advertised, 50000).toWire())
                .isEqualTo("227 Entering Passive Mode (203,0,113,5,195,80).\r\n");
        assertThat(PassiveRewrite.toClient(true, null, 50000).toWire())
                .isEqualTo("229 Entering Extended Passive Mode (|||50000|)\r\n");
    }
}
