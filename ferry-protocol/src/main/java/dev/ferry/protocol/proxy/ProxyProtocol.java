package dev.ferry.protocol.proxy;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * The PROXY protocol header, versions 1 (text) and 2 (binary), as written by the balancer in front of
 * each backend connection and read by {@code ferry server} from trusted balancers.
 *
 * <p>Design: {@link #read} takes exactly the header's bytes off a blocking channel and not one more,
 * because in FTP the server speaks first and the client's first command must stay in the channel for
 * the session's line reader. It first reads 15 bytes (no valid header of either version is shorter),
 * which tells v1 from v2; a v2 header then announces its own length, while a v1 line is read one byte at
 * a time until CRLF. Every length is bounded before anything is allocated or read. Addresses are built
 * from bytes with {@link InetAddress#getByAddress(byte[])}, so no input ever causes a DNS lookup.
 *
 * <p>Deciding whether a peer may send a header at all is the caller's job (spec §2: "only trusted
 * proxies"); this class only decides whether what was sent is a header.
 */
public final class ProxyProtocol {

    /** Spec §2.1: the longest v1 line, CRLF included ("PROXY UNKNOWN" with two full IPv6 addresses). */
    static final int V1_MAX_LENGTH = 107;
    /** "PROXY UNKNOWN\r\n" (spec §2.1); a v2 header is at least 16 bytes. */
    static final int SHORTEST_HEADER = 15;
    /** Bound on the v2 length field (addresses plus TLVs); ours need 36, HAProxy's TLVs a few hundred. */
    static final int V2_MAX_LENGTH = 4096;

    // Spec §2.2
    private static final byte[] V2_SIGNATURE = {
            0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final int V2_FIXED_LENGTH = 16;
    private static final int V2_VERSION = 0x2;
    private static final int CMD_LOCAL = 0x0;
    private static final int CMD_PROXY = 0x1;
    private static final int FAM_UNSPEC = 0x00;
    private static final int FAM_TCP4 = 0x11;
    private static final int FAM_UDP4 = 0x12;
    private static final int FAM_TCP6 = 0x21;
    private static final int FAM_UDP6 = 0x22;
    private static final int FAM_UNIX_STREAM = 0x31;
    private static final int FAM_UNIX_DGRAM = 0x32;
    private static final int TCP4_ADDRESS_LENGTH = 12;
    private static final int TCP6_ADDRESS_LENGTH = 36;
    private static final int UNIX_ADDRESS_LENGTH = 216;
    private static final int TLV_HEADER_LENGTH = 3;
    private static final int PP2_TYPE_CRC32C = 0x03;
    private static final int PP2_TYPE_UNIQUE_ID = 0x05;

    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final int QUOTE_LIMIT = 40;

    private ProxyProtocol() {
    }

    /** What the first bytes of a connection say about a PROXY header ({@link #signature}). */
    public enum Signature {
        /** Not a header: these bytes already differ from both signatures. */
        NONE,
        /** Still a prefix of a signature: more bytes are needed to tell. */
        UNDECIDED,
        /** Spec §2.1: "PROXY" and a space. */
        V1,
        /** Spec §2.2: the 12-byte binary signature. */
        V2
    }

    /** The longest prefix {@link #signature} needs: v2's 12 bytes. */
    public static final int SIGNATURE_LENGTH = 12;

    /**
     * Whether a connection starting with {@code bytes[0..length)} starts with a PROXY header's signature (spec
     * §2.1 "PROXY ", §2.2 the 12-byte v2 signature). Only the signature is looked at, not the rest of the
     * header: this recognises a header sent to a receiver that does not expect one, it does not read one.
     */
    public static Signature signature(byte[] bytes, int length) {
        boolean v1 = prefixMatches(V1_PREFIX, bytes, length);
        boolean v2 = prefixMatches(V2_SIGNATURE, bytes, length);
        if (v1 && length >= V1_PREFIX.length) {
            return Signature.V1;
        }
        if (v2 && length >= V2_SIGNATURE.length) {
            return Signature.V2;
        }
        return v1 || v2 ? Signature.UNDECIDED : Signature.NONE;
    }

    private static boolean prefixMatches(byte[] signature, byte[] bytes, int length) {
        int n = Math.min(length, signature.length);
        return Arrays.equals(bytes, 0, n, signature, 0, n);
    }

    // ---- encoding ---------------------------------------------------------------------------------

    /** Spec §2.1: "PROXY TCP4 src dst sport dport\r\n", TCP6 when either address is IPv6, or "PROXY UNKNOWN\r\n". */
    public static byte[] encodeV1(ProxyHeader header) {
        if (header.isLocal()) {
            return "PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII);
        }
        boolean ipv4 = bothIpv4(header);
        String line = "PROXY " + (ipv4 ? "TCP4 " : "TCP6 ")
                + textOf(header.source().getAddress(), ipv4) + " "
                + textOf(header.destination().getAddress(), ipv4) + " "
                + header.source().getPort() + " " + header.destination().getPort() + "\r\n";
        return line.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Spec §2.2: signature, version 2 with PROXY (or LOCAL), TCP over IPv4 or IPv6, addresses, ports, and the
     * unique ID TLV (§2.2.5) when the header has one.
     */
    public static byte[] encodeV2(ProxyHeader header) {
        if (header.isLocal()) {
            ByteBuffer out = ByteBuffer.allocate(V2_FIXED_LENGTH);
            out.put(V2_SIGNATURE).put((byte) (V2_VERSION << 4 | CMD_LOCAL)).put((byte) FAM_UNSPEC).putShort((short) 0);
            return out.array();
        }
        boolean ipv4 = bothIpv4(header);
        int addressLength = ipv4 ? TCP4_ADDRESS_LENGTH : TCP6_ADDRESS_LENGTH;
        byte[] id = header.uniqueId() == null ? null : header.uniqueId().getBytes(StandardCharsets.US_ASCII);
        if (id != null && id.length > ProxyHeader.UNIQUE_ID_LIMIT) {
            throw new IllegalArgumentException("PROXY unique ID of " + id.length + " bytes is over the limit of "
                    + ProxyHeader.UNIQUE_ID_LIMIT + " (spec §2.2.5)");
        }
        int tlvLength = id == null ? 0 : TLV_HEADER_LENGTH + id.length;
        ByteBuffer out = ByteBuffer.allocate(V2_FIXED_LENGTH + addressLength + tlvLength);
        out.put(V2_SIGNATURE)
                .put((byte) (V2_VERSION << 4 | CMD_PROXY))
                .put((byte) (ipv4 ? FAM_TCP4 : FAM_TCP6))
                .putShort((short) (addressLength + tlvLength))
                .put(bytesOf(header.source().getAddress(), ipv4))
                .put(bytesOf(header.destination().getAddress(), ipv4))
                .putShort((short) header.source().getPort())
                .putShort((short) header.destination().getPort());
        if (id != null) {
            out.put((byte) PP2_TYPE_UNIQUE_ID).putShort((short) id.length).put(id);
        }
        return out.array();
    }

    private static boolean bothIpv4(ProxyHeader header) {
        return header.source().getAddress() instanceof Inet4Address
                && header.destination().getAddress() instanceof Inet4Address;
    }

    private static String textOf(InetAddress address, boolean ipv4) {
        byte[] bytes = bytesOf(address, ipv4);
        return ipv4 ? IpLiteral.formatIpv4(bytes) : IpLiteral.formatIpv6(bytes);
    }

    /** The address's bytes, an IPv4 address as IPv4-mapped IPv6 (RFC 4291 §2.5.5.2) in an IPv6 header. */
    private static byte[] bytesOf(InetAddress address, boolean ipv4) {
        byte[] bytes = address.getAddress();
        if (ipv4 || bytes.length == 16) {
            return bytes;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        System.arraycopy(bytes, 0, mapped, 12, 4);
        return mapped;
    }

    // ---- reading ----------------------------------------------------------------------------------

    /**
     * Reads exactly one header, v1 or v2, from a blocking channel, leaving every byte after it unread.
     *
     * @throws ProxyProtocolException when the connection does not start with a valid header, or ends
     *     inside it; the connection must then be dropped
     * @throws IOException when reading fails
     */
    public static ProxyHeader read(ReadableByteChannel in) throws IOException, ProxyProtocolException {
        byte[] start = new byte[SHORTEST_HEADER];
        readFully(in, start, 0, SHORTEST_HEADER, 0);
        // Spec §2.2: v2 is recognised by its 12-byte signature, v1 by "PROXY"; anything else is dropped.
        if (Arrays.equals(start, 0, V2_SIGNATURE.length, V2_SIGNATURE, 0, V2_SIGNATURE.length)) {
            return readV2(in, start);
        }
        if (Arrays.equals(start, 0, V1_PREFIX.length, V1_PREFIX, 0, V1_PREFIX.length)) {
            return readV1(in, start);
        }
        throw new ProxyProtocolException("no PROXY header: the connection starts with "
                + quote(new String(start, StandardCharsets.ISO_8859_1)));
    }

    private static ProxyHeader readV1(ReadableByteChannel in, byte[] start) throws IOException, ProxyProtocolException {
        byte[] line = Arrays.copyOf(start, V1_MAX_LENGTH);
        int length = start.length;
        for (int i = 0; ; i++) {
            if (i == length) {
                if (length == V1_MAX_LENGTH) {
                    // SECURITY: bounds what a sender can make us read before we give up (spec §2.1).
                    throw new ProxyProtocolException("PROXY v1 line has no CRLF within " + V1_MAX_LENGTH + " bytes");
                }
                readFully(in, line, length, 1, 0);
                length++;
            }
            int b = line[i] & 0xFF;
            boolean afterCr = i > 0 && line[i - 1] == '\r';
            // Spec §2.1: a lone CR or LF does not end the line.
            if (afterCr && b != '\n') {
                throw new ProxyProtocolException("PROXY v1 line has a CR not followed by LF");
            }
            if (b == '\r') {
                continue;
            }
            if (b == '\n') {
                if (!afterCr) {
                    throw new ProxyProtocolException("PROXY v1 line ends in LF without CR");
                }
                if (i + 1 != length) {
                    // Only possible within the first 15 bytes, which no valid header ends in.
                    throw new ProxyProtocolException("PROXY v1 line is shorter than any valid header");
                }
                return parseV1(new String(line, 0, i - 1, StandardCharsets.US_ASCII));
            }
            if (b < 0x20 || b > 0x7E) {
                throw new ProxyProtocolException(String.format("PROXY v1 line has a non-printable byte 0x%02x", b));
            }
        }
    }

    /** Spec §2.1: "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP dport, or "PROXY UNKNOWN" and anything. */
    static ProxyHeader parseV1(String line) throws ProxyProtocolException {
        String[] fields = line.split(" ", -1);
        String protocol = fields[1];
        if (protocol.equals("UNKNOWN")) {
            return ProxyHeader.local(); // spec §2.1: the receiver must ignore the rest of the line
        }
        boolean ipv4 = protocol.equals("TCP4");
        if (!ipv4 && !protocol.equals("TCP6")) {
            throw new ProxyProtocolException("PROXY v1 protocol " + quote(protocol) + " is not TCP4, TCP6 or UNKNOWN");
        }
        if (fields.length != 6) {
            throw new ProxyProtocolException("PROXY v1 " + protocol + " line has " + fields.length
                    + " space-separated fields, not 6: " + quote(line));
        }
        InetAddress source = v1Address(fields[2], ipv4, "source");
        InetAddress destination = v1Address(fields[3], ipv4, "destination");
        int sourcePort = v1Port(fields[4], "source");
        int destinationPort = v1Port(fields[5], "destination");
        return new ProxyHeader(new InetSocketAddress(source, sourcePort), new InetSocketAddress(destination, destinationPort));
    }

    private static InetAddress v1Address(String text, boolean ipv4, String role) throws ProxyProtocolException {
        // SECURITY: only literals of the announced family are accepted; a host name is never resolved.
        byte[] bytes = ipv4 ? IpLiteral.parseIpv4(text) : IpLiteral.parseIpv6(text);
        if (bytes == null) {
            throw new ProxyProtocolException("PROXY v1 " + role + " address " + quote(text) + " is not an "
                    + (ipv4 ? "IPv4" : "IPv6") + " literal");
        }
        return addressOf(bytes);
    }

    private static int v1Port(String text, String role) throws ProxyProtocolException {
        int port = IpLiteral.parseDecimal(text, 65535);
        if (port < 0) {
            throw new ProxyProtocolException("PROXY v1 " + role + " port " + quote(text) + " is not a decimal 0..65535");
        }
        return port;
    }

    private static ProxyHeader readV2(ReadableByteChannel in, byte[] start) throws IOException, ProxyProtocolException {
        byte[] fixed = Arrays.copyOf(start, V2_FIXED_LENGTH);
        readFully(in, fixed, start.length, V2_FIXED_LENGTH - start.length, 0);
        int version = (fixed[12] & 0xF0) >> 4;
        int command = fixed[12] & 0x0F;
        int family = fixed[13] & 0xFF;
        int length = ((fixed[14] & 0xFF) << 8) | (fixed[15] & 0xFF);
        if (version != V2_VERSION) {
            throw new ProxyProtocolException("PROXY v2 header has version " + version + ", not 2");
        }
        if (command != CMD_LOCAL && command != CMD_PROXY) {
            throw new ProxyProtocolException("PROXY v2 header has unknown command " + command);
        }
        // SECURITY: checked before reading, so a sender cannot make us allocate or wait for 64 KiB.
        if (length > V2_MAX_LENGTH) {
            throw new ProxyProtocolException("PROXY v2 header length " + length + " is over the limit of " + V2_MAX_LENGTH);
        }
        byte[] block = new byte[length];
        readFully(in, block, 0, length, V2_FIXED_LENGTH);
        if (command == CMD_LOCAL) {
            return ProxyHeader.local(); // spec §2.2: family and addresses are ignored, whatever they say
        }
        int addressLength = switch (family) {
            case FAM_UNSPEC -> -1;
            case FAM_TCP4 -> TCP4_ADDRESS_LENGTH;
            case FAM_TCP6 -> TCP6_ADDRESS_LENGTH;
            case FAM_UNIX_STREAM -> UNIX_ADDRESS_LENGTH;
            case FAM_UDP4, FAM_UDP6, FAM_UNIX_DGRAM -> throw new ProxyProtocolException(String.format(
                    "PROXY v2 header is for a datagram connection (family 0x%02x), not a stream", family));
            default -> throw new ProxyProtocolException(String.format("PROXY v2 header has unknown family 0x%02x", family));
        };
        if (addressLength < 0) {
            // Spec §2.2: UNSPEC says nothing usable; the receiver uses the real endpoints.
            return ProxyHeader.local();
        }
        if (length < addressLength) {
            throw new ProxyProtocolException(String.format("PROXY v2 length %d is too short for family 0x%02x, which needs %d",
                    length, family, addressLength));
        }
        String uniqueId = checkTlvs(fixed, block, addressLength);
        if (family == FAM_UNIX_STREAM) {
            // Spec §2.2: a receiver falls back to UNSPEC for a family it does not use; a UNIX path is no client address.
            return ProxyHeader.local();
        }
        int ipLength = family == FAM_TCP4 ? 4 : 16;
        ByteBuffer addresses = ByteBuffer.wrap(block, 0, addressLength);
        InetAddress source = addressOf(take(addresses, ipLength));
        InetAddress destination = addressOf(take(addresses, ipLength));
        int sourcePort = addresses.getShort() & 0xFFFF;
        int destinationPort = addresses.getShort() & 0xFFFF;
        return new ProxyHeader(new InetSocketAddress(source, sourcePort), new InetSocketAddress(destination, destinationPort),
                uniqueId);
    }

    /**
     * The TLVs after the addresses (spec §2.2) are skipped, but they must tile the rest of the header
     * exactly, and a CRC32C TLV must match (spec §2.2.3: a receiver that supports it MUST check it).
     * Returns the unique ID (§2.2.5), or null when there is none.
     */
    private static String checkTlvs(byte[] fixed, byte[] block, int offset) throws ProxyProtocolException {
        String uniqueId = null;
        int position = offset;
        while (position < block.length) {
            if (block.length - position < TLV_HEADER_LENGTH) {
                throw new ProxyProtocolException("PROXY v2 TLV at offset " + position + " is truncated");
            }
            int type = block[position] & 0xFF;
            int valueLength = ((block[position + 1] & 0xFF) << 8) | (block[position + 2] & 0xFF);
            int valueStart = position + TLV_HEADER_LENGTH;
            if (valueLength > block.length - valueStart) {
                throw new ProxyProtocolException(String.format(
                        "PROXY v2 TLV type 0x%02x at offset %d has length %d, past the end of the header", type, position, valueLength));
            }
            if (type == PP2_TYPE_CRC32C) {
                checkCrc32c(fixed, block, valueStart, valueLength);
            } else if (type == PP2_TYPE_UNIQUE_ID) {
                uniqueId = uniqueId(block, valueStart, valueLength);
            }
            position = valueStart + valueLength;
        }
        return uniqueId;
    }

    /**
     * Spec §2.2.5: up to 128 opaque bytes. Kept as text when it is printable ASCII (Ferry's and HAProxy's
     * {@code unique-id-format} ids are), else as hex, so that what is logged can never break a log line.
     */
    private static String uniqueId(byte[] block, int start, int length) throws ProxyProtocolException {
        if (length > ProxyHeader.UNIQUE_ID_LIMIT) {
            throw new ProxyProtocolException("PROXY v2 unique ID has length " + length + ", over the limit of "
                    + ProxyHeader.UNIQUE_ID_LIMIT);
        }
        if (length == 0) {
            return null;
        }
        boolean printable = true;
        for (int i = start; i < start + length; i++) {
            printable &= block[i] > 0x20 && block[i] < 0x7F;
        }
        if (printable) {
            return new String(block, start, length, StandardCharsets.US_ASCII);
        }
        return "0x" + HexFormat.of().formatHex(block, start, start + length);
    }

    private static void checkCrc32c(byte[] fixed, byte[] block, int valueStart, int valueLength) throws ProxyProtocolException {
        if (valueLength != 4) {
            throw new ProxyProtocolException("PROXY v2 CRC32C TLV has length " + valueLength + ", not 4");
        }
        long expected = ByteBuffer.wrap(block, valueStart, 4).getInt() & 0xFFFFFFFFL;
        byte[] zeroed = block.clone();
        Arrays.fill(zeroed, valueStart, valueStart + 4, (byte) 0);
        CRC32C crc = new CRC32C();
        crc.update(fixed);
        crc.update(zeroed);
        // SECURITY: a corrupted header could otherwise hand us a wrong client address.
        if (crc.getValue() != expected) {
            throw new ProxyProtocolException(String.format("PROXY v2 CRC32C mismatch: header says %08x, computed %08x",
                    expected, crc.getValue()));
        }
    }

    private static byte[] take(ByteBuffer buffer, int length) {
        byte[] bytes = new byte[length];
        buffer.get(bytes);
        return bytes;
    }

    /** An address from raw bytes: no lookup; an IPv4-mapped IPv6 address becomes an Inet4Address, as Java does. */
    private static InetAddress addressOf(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes always make an address", e);
        }
    }

    /** Fills into[offset, offset + length); headerBefore is how many header bytes precede into[0], for the message. */
    private static void readFully(ReadableByteChannel in, byte[] into, int offset, int length, int headerBefore)
            throws IOException, ProxyProtocolException {
        ByteBuffer buffer = ByteBuffer.wrap(into, offset, length);
        while (buffer.hasRemaining()) {
            int n = in.read(buffer);
            if (n < 0) {
                throw new ProxyProtocolException("connection closed after " + (headerBefore + buffer.position())
                        + " bytes, inside the PROXY header");
            }
            if (n == 0) {
                throw new IOException("channel returned no bytes: reading a PROXY header needs a blocking channel");
            }
        }
    }

    /** A short, printable rendering of untrusted input for an error message. */
    private static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length() && i < QUOTE_LIMIT; i++) {
            char c = text.charAt(i);
            if (c >= 0x20 && c <= 0x7E) {
                out.append(c);
            } else {
                out.append(String.format("\\x%02x", (int) c));
            }
        }
        return out.append(text.length() > QUOTE_LIMIT ? "...\"" : "\"").toString();
    }
}
