package dev.ferry.runtime.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Which IPv4 address a 227 reply advertises to a client: the first per-network override whose block
 * holds the client's address, else the configured public address (an IP, or a host name resolved at
 * PASV time so that a dynamic address is followed), else the address the client connected to.
 */
public final class PassiveAddressing {

    private record Override(Cidr network, String address) {}

    private final List<Override> overrides;
    private final String publicAddress;

    /**
     * @param publicAddress    what to advertise when no override matches; null: the address the client connected to
     * @param networkAddresses per client network overrides, first match wins
     */
    public PassiveAddressing(String publicAddress, List<NetworkAddress> networkAddresses) {
        this.overrides = networkAddresses.stream()
                .map(n -> new Override(Cidr.parse(n.cidr()), n.address()))
                .toList();
        this.publicAddress = publicAddress;
    }

    /** The address to advertise, or null when there is no IPv4 address to give (use EPSV). */
    public Inet4Address advertise(InetAddress client, InetAddress local) throws UnknownHostException {
        for (Override o : overrides) {
            if (o.network().contains(client)) {
                return ipv4(InetAddress.getByName(o.address()));
            }
        }
        if (publicAddress != null) {
            return ipv4(InetAddress.getByName(publicAddress));
        }
        return ipv4(local);
    }

    private static Inet4Address ipv4(InetAddress a) {
        return a instanceof Inet4Address v4 ? v4 : null;
    }
}
