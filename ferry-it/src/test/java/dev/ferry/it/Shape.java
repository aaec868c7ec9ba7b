package dev.ferry.it;

/**
 * The shapes the real-client tests run in (curl, lftp, ftplib, Commons Net; {@link ShapeExtension}),
 * so that every change is checked each way:
 * <ul>
 *   <li>{@link #DIRECT}: the client talks to ferry server.</li>
 *   <li>{@link #BALANCED}: the client talks to ferry balancer, in front of two ferry servers that share one
 *       root. Every part listens on its own address (balancer 127.0.0.5, servers 127.0.0.2 and 127.0.0.3)
 *       and the client connects from 127.0.0.1: an address taken from the wrong connection, or a data
 *       connection that leaves from another address than the one dialled, fails here as it does between
 *       machines, where on one shared 127.0.0.1 it would go unnoticed.</li>
 *   <li>{@link #OBJECT_STORE}: the client talks to ferry server whose files live on an S3 service (S3Proxy on
 *       127.0.0.7, {@link ObjectStoreFixture}), reached only through the S3 API; the test sees the same files in
 *       the store's bucket directory. What an object store cannot do (MFMT, unix modes, times it keeps) is
 *       skipped in that shape alone, each with its reason.</li>
 * </ul>
 * FTPS in the balanced shape is TLS terminated at the balancer, with plain backends.
 */
public enum Shape {
    DIRECT,
    BALANCED,
    OBJECT_STORE
}
