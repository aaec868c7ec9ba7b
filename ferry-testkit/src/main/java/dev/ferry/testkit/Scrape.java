package dev.ferry.testkit;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.DoublePredicate;
import java.util.function.Supplier;

/**
 * One scrape in the Prometheus text format, parsed: sample values by their exact text
 * ({@code name{label="value",...}}, labels in declaration order, as the library writes them), and
 * the HELP and TYPE of each metric family. Shared with ferry-balancer's and ferry-it's tests through
 * ferry-server's test jar.
 */
public record Scrape(Map<String, Double> samples, Map<String, String> help, Map<String, String> types) {

    public static Scrape parse(String text) {
        Map<String, Double> samples = new LinkedHashMap<>();
        Map<String, String> help = new LinkedHashMap<>();
        Map<String, String> types = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# HELP ")) {
                String[] parts = line.substring(7).split(" ", 2);
                help.put(parts[0], parts.length > 1 ? parts[1] : "");
            } else if (line.startsWith("# TYPE ")) {
                String[] parts = line.substring(7).split(" ", 2);
                types.put(parts[0], parts[1]);
            } else if (!line.isBlank() && !line.startsWith("#")) {
                int space = line.lastIndexOf(' ');
                samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
            }
        }
        return new Scrape(samples, help, types);
    }

    /** The value of one sample; fails naming the samples there are when it is missing. */
    public double value(String sample) {
        Double v = samples.get(sample);
        if (v == null) {
            throw new AssertionError("no sample " + sample + " in the scrape; samples: " + samples.keySet());
        }
        return v;
    }

    /**
     * Scrapes until {@code sample} has {@code expected} (counters are updated just after the reply
     * that tells the client, so a test can be a moment ahead), or fails after 10 s with the last value.
     */
    public static Scrape awaitValue(Supplier<String> scrape, String sample, double expected) throws InterruptedException {
        return await(scrape, sample, v -> v == expected, "" + expected);
    }

    /** As {@link #awaitValue}, until {@code sample} is at least {@code least}. */
    public static Scrape awaitAtLeast(Supplier<String> scrape, String sample, double least) throws InterruptedException {
        return await(scrape, sample, v -> v >= least, "at least " + least);
    }

    private static Scrape await(Supplier<String> scrape, String sample, DoublePredicate wanted, String expected)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            Scrape s = parse(scrape.get());
            Double v = s.samples().get(sample);
            if (v != null && wanted.test(v)) {
                return s;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(sample + " is " + v + ", expected " + expected);
            }
            Thread.sleep(10);
        }
    }

    /**
     * Prometheus naming rules for every family: the name matches {@code name} (the project's prefix in snake
     * case), has HELP and TYPE, counters end in _total and histograms in _seconds.
     */
    public void assertNamedAndDocumented(java.util.regex.Pattern name) {
        for (Map.Entry<String, String> family : types.entrySet()) {
            org.assertj.core.api.Assertions.assertThat(family.getKey()).matches(name);
            org.assertj.core.api.Assertions.assertThat(help.get(family.getKey())).as("HELP of %s", family.getKey()).isNotBlank();
            if (family.getValue().equals("counter")) {
                org.assertj.core.api.Assertions.assertThat(family.getKey()).endsWith("_total");
            }
            if (family.getValue().equals("histogram")) {
                org.assertj.core.api.Assertions.assertThat(family.getKey()).endsWith("_seconds");
            }
        }
        org.assertj.core.api.Assertions.assertThat(help.keySet()).isEqualTo(types.keySet());
    }
}
