package dev.ferry.runtime.limits;

import dev.ferry.runtime.net.Cidr;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.time.Instant;

/**
 * One address banned until {@code until}. {@code address} is the tracking key: the IPv4 address itself, or
 * an IPv6 client's /64 prefix (see {@link BanList}). {@code failures}: the failed logins that started it
 * (0 for a ban by hand); {@code reason}: {@value #FAILED_LOGINS} or the operator's words; {@code origin}:
 * who or where made it (the node that counted the failures, or {@code admin@node}).
 */
public record Ban(InetAddress address, Instant until, int failures, String reason, String origin) {

    /** The reason of a ban that failures started. */
    public static final String FAILED_LOGINS = "failed-logins";

    /** The address as an operator writes it: {@code 192.0.2.7}, or {@code 2001:db8:1:2::/64}. */
    public String display() {
        return display(address);
    }

    public static String display(InetAddress key) {
        String text = key.getHostAddress();
        return key instanceof Inet6Address ? text + "/64" : text;
    }

    /**
     * An address typed by an operator ({@code 192.0.2.7}, {@code 2001:db8::1}, or a key as {@link #display()}
     * prints it, with {@code /64}): a literal only, never a name lookup.
     *
     * @throws IllegalArgumentException if it is not an IP literal
     */
    public static InetAddress parseAddress(String text) {
        String addr = text.strip();
        int slash = addr.indexOf('/');
        if (slash >= 0) {
            addr = addr.substring(0, slash);
        }
        Cidr host = Cidr.parse(addr + (addr.indexOf(':') >= 0 ? "/128" : "/32"));
        try {
            return InetAddress.getByAddress(host.network());
        } catch (UnknownHostException e) {
            throw new IllegalStateException("a 4 or 16 byte address is always valid", e);
        }
    }

    /**
     * The key an address is tracked and banned by: the address itself for IPv4 (also when IPv4-mapped), its /64
     * prefix for IPv6. Every implementation keys the same way, so a ban made on one node matches on another.
     */
    public static InetAddress key(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address;
        }
        byte[] bytes = address.getAddress();
        try {
            if (isIpv4Mapped(bytes)) {
                return InetAddress.getByAddress(Arrays.copyOfRange(bytes, 12, 16));
            }
            Arrays.fill(bytes, 8, 16, (byte) 0);
            return InetAddress.getByAddress(bytes);   // drops the scope id too: same host, same key
        } catch (UnknownHostException e) {
            throw new IllegalStateException("a 4 or 16 byte address is always valid", e);
        }
    }

    private static boolean isIpv4Mapped(byte[] bytes) {
        for (int i = 0; i < 10; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
    }}
