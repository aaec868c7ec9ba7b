package dev.ferry.balancer.passthrough;

import dev.ferry.balancer.BalancerSettings.BackendSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The backends' own passive ranges in TLS passthrough, where a data port alone says which backend a
 * data connection belongs to: the balancer cannot read the 227/229 reply that announced it. So every
 * backend needs a range, and no port may belong to two of them. Immutable; built once per start or
 * reload from the backend list, after {@link #problems} found nothing.
 */
public final class PassiveRanges {

    /** One backend's range, both ends included. */
    public record Range(String backend, int low, int high) {
        public boolean contains(int port) {
            return port >= low && port <= high;
        }

        public int size() {
            return high - low + 1;
        }

        @Override
        public String toString() {
            return backend + ":" + low + "-" + high;
        }
    }

    private final List<Range> byLow;

    private PassiveRanges(List<Range> byLow) {
        this.byLow = byLow;
    }

    /** The ranges of {@code backends} (those without one are left out: {@link #problems} reports them). */
    public static PassiveRanges of(List<BackendSpec> backends) {
        List<Range> ranges = new ArrayList<>();
        for (BackendSpec b : backends) {
            if (b.hasPassiveRange()) {
                ranges.add(new Range(b.name(), b.passiveLow(), b.passiveHigh()));
            }
        }
        ranges.sort(Comparator.comparingInt(Range::low));
        return new PassiveRanges(List.copyOf(ranges));
    }

    /**
     * What makes {@code backends} unusable for passthrough, one message each (empty: fine): a backend
     * without a range, two ranges sharing a port.
     */
    public static List<String> problems(List<BackendSpec> backends) {
        List<String> problems = new ArrayList<>();
        for (BackendSpec b : backends) {
            if (!b.hasPassiveRange()) {
                problems.add("backend " + b.name() + " has no passive-ports: in TLS passthrough every backend needs its own range "
                        + "(--backend " + b.name() + "=HOST:PORT,passive-ports=LOW-HIGH, or passive-ports: LOW-HIGH in the file)");
            }
        }
        List<Range> sorted = of(backends).byLow;
        for (int i = 0; i < sorted.size(); i++) {
            for (int j = i + 1; j < sorted.size() && sorted.get(j).low() <= sorted.get(i).high(); j++) {
                Range a = sorted.get(i);
                Range b = sorted.get(j);
                problems.add("the passive-ports of backends " + a.backend() + " (" + a.low() + "-" + a.high() + ") and "
                        + b.backend() + " (" + b.low() + "-" + b.high() + ") overlap: in TLS passthrough a data port must "
                        + "name exactly one backend");
            }
        }
        return problems;
    }

    /** The backend whose range holds {@code port}, or null. */
    public String owner(int port) {
        int lo = 0;
        int hi = byLow.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Range r = byLow.get(mid);
            if (port < r.low()) {
                hi = mid - 1;
            } else if (port > r.high()) {
                lo = mid + 1;
            } else {
                return r.backend();
            }
        }
        return null;
    }

    /** The ranges, lowest first. */
    public List<Range> ranges() {
        return byLow;
    }

    /** Ports in all ranges together. */
    public int portCount() {
        return byLow.stream().mapToInt(Range::size).sum();
    }

    @Override
    public String toString() {
        return byLow.isEmpty() ? "-" : String.join(",", byLow.stream().map(Range::toString).toList());
    }
}
