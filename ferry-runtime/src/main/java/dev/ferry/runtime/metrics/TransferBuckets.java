package dev.ferry.runtime.metrics;

/** The histogram bucket bounds of transfer durations, one definition for both daemons so that their histograms compare bucket by bucket. */
public final class TransferBuckets {

    /**
     * Seconds: a small file over loopback takes milliseconds, a large one over a WAN an hour; the
     * bounds roughly triple so each bucket stays meaningful across that span.
     */
    private static final double[] SECONDS = {0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 60, 300, 900, 3600};

    private TransferBuckets() {
    }

    public static double[] seconds() {
        return SECONDS.clone();
    }
}
