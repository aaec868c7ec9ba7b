package dev.ferry.balancer.metrics;

/**
 * What the metrics read of the balancer's admission (the frontend's {@code Admission}), at scrape time: so that
 * metrics, which the frontend reports to, does not depend on the frontend in turn.
 */
public interface AdmissionStats {

    /** Sessions admitted and not yet ended. */
    int active();

    /** Clients waiting for a slot. */
    int queued();

    /** Sessions admitted since the start. */
    long admitted();

    /** Clients refused since the start because the queue was full (max-sessions). */
    long refusedQueueFull();

    /** Clients refused since the start because no slot came within the queue timeout. */
    long refusedQueueTimeout();

    /** Clients refused since the start because their address held max-sessions-per-address connections. */
    long refusedPerAddress();
}
