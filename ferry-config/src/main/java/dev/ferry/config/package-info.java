/**
 * Configuration files for Ferry, read once at start-up into the frozen settings records.
 *
 * <p>Files are composed into YAML nodes rather than bound to objects, so every value keeps its
 * line and column and each error reads {@code FILE:LINE:COL: path.to.key: expected ..., got ...}.
 * {@link dev.ferry.config.Values} holds the value parsers, shared with the command line so a
 * setting is written the same way in both. The keys are documented in docs/configuration.md.
 */
package dev.ferry.config;
