package dev.ferry.server.data;

import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;

/**
 * An open data connection: the socket, and the channel the bytes go through (the socket itself under
 * PROT C, TLS over it under PROT P).
 */
public record DataConnection(SocketChannel socket, ByteChannel channel) {

    /** Clear text: the bytes may go from the file to the socket without passing through user space. */
    public boolean plain() {
        return channel == socket;
    }
}
