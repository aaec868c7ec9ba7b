package dev.ferry.protocol.address;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.protocol.address.ActiveTarget.Reason;
import dev.ferry.protocol.address.ActiveTarget.Result;
import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ActiveTargetTest {

    private static String outcome(Result result) {
        return switch (result) {
            case Result.Accepted a -> "ok " + HostPort.text(a.target().toSocketAddress());
            case Result.Refused r -> r.reply() + " [" + r.reason().label() + "]";
        };
    }

    @ParameterizedTest(name = "PORT {0} from {1}: {2}")
    @CsvSource(delimiter = '|', value = {
            "192,0,2,7,195,80       | 192.0.2.7        | ok 192.0.2.7:50000",
            // An IPv4 client on a dual-stack socket: its address is IPv4-mapped, its PORT plain IPv4.
            "192,0,2,7,195,80       | ::ffff:192.0.2.7 | ok 192.0.2.7:50000",
            "192,0,2,7,4,0          | 192.0.2.7        | ok 192.0.2.7:1024",
            "192,0,2,7,3,255        | 192.0.2.7        | 501 PORT refused: port 1023 is below 1024. [privileged-port]",
            "192,0,2,7,0,21         | 192.0.2.7        | 501 PORT refused: port 21 is below 1024. [privileged-port]",
            "198,51,100,9,195,80    | 192.0.2.7        | 501 PORT refused: data connections go only to your own address. [foreign-address]",
            // A foreign target on a privileged port is refused for the bounce first.
            "198,51,100,9,0,25      | 192.0.2.7        | 501 PORT refused: data connections go only to your own address. [foreign-address]",
            "192,0,2,7,195          | 192.0.2.7        | 501 Syntax: PORT h1,h2,h3,h4,p1,p2 (each 0-255). [syntax]",
            "192,0,2,7,195,256      | 192.0.2.7        | 501 Syntax: PORT h1,h2,h3,h4,p1,p2 (each 0-255). [syntax]",
    })
    void port(String argument, String peer, String outcome) throws Exception {
        assertThat(outcome(ActiveTarget.port(argument, InetAddress.getByName(peer)))).isEqualTo(outcome);
    }

    @ParameterizedTest(name = "EPRT {0} from {1}: {2}")
    @CsvSource(delimiter = '^', value = {
            "|1|192.0.2.7|50000|            ^ 192.0.2.7        ^ ok 192.0.2.7:50000",
            "|1|192.0.2.7|50000|            ^ ::ffff:192.0.2.7 ^ ok 192.0.2.7:50000",
            "|2|2001:db8::7|50000|          ^ 2001:db8::7      ^ ok [2001:db8::7]:50000",
            // The mapped form in the argument names the IPv4 host that connected over IPv4.
            "|2|::ffff:192.0.2.7|50000|     ^ 192.0.2.7        ^ ok 192.0.2.7:50000",
            "|2|2001:db8::7|80|             ^ 2001:db8::7      ^ 501 EPRT refused: port 80 is below 1024. [privileged-port]",
            "|2|2001:db8::8|50000|          ^ 2001:db8::7      ^ 501 EPRT refused: data connections go only to your own address. [foreign-address]",
            "|1|192.0.2.7|50000|            ^ 2001:db8::7      ^ 501 EPRT refused: data connections go only to your own address. [foreign-address]",
            "|3|192.0.2.7|50000|            ^ 192.0.2.7        ^ 522 Network protocol not supported, use (1,2) [network-protocol]",
            "|1|localhost|50000|            ^ 192.0.2.7        ^ 501 Syntax: EPRT |1|a.b.c.d|port| or EPRT |2|ipv6|port|. [syntax]",
            "|1|192.0.2.7|0|                ^ 192.0.2.7        ^ 501 Syntax: EPRT |1|a.b.c.d|port| or EPRT |2|ipv6|port|. [syntax]",
    })
    void eprt(String argument, String peer, String outcome) throws Exception {
        assertThat(outcome(ActiveTarget.eprt(argument, InetAddress.getByName(peer)))).isEqualTo(outcome);
    }

    @ParameterizedTest
    @CsvSource({"1023, PRIVILEGED_PORT", "1024, ", "65535, "})
    void thePrivilegedPortsEndAt1023(int port, Reason refused) throws Exception {
        InetAddress client = InetAddress.getByName("192.0.2.7");
        Result result = ActiveTarget.check("PORT", new HostPort(client, port), client);

        assertThat(result instanceof Result.Refused r ? r.reason() : null).isEqualTo(refused);
    }
}
