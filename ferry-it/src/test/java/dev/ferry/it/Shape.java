package dev.ferry.it;

/**
 * The two shapes the real-client tests run in (curl, lftp, ftplib, Commons Net; {@link ShapeExtension}),
 * so that every change is checked both ways:
 * <ul>
 *   <li>{@link #DIRECT}: the client talks to ferry server.</li>
 *   <li>{@link #BALANCED}: the client talks to ferry balancer, in front of two ferry servers that share one
 *       root. Every part listens on its own address (balancer 127.0.0.5, servers 127.0.0.2 and 127.0.0.3)
 *       and the client connects from 127.0.0.1: an address taken from the wrong connection, or a data
 *       connection that leaves from another address than the one dialled, fails here as it does between
 *       machines, where on one shared 127.0.0.1 it would go unnoticed.</li>
 * </ul>
 * FTPS in the balanced shape is TLS terminated at the balancer, with plain backends.
 */
public enum Shape {
    DIRECT,
    BALANCED
}
