package dev.ferry.balancer.backend;

/**
 * The rise/fall counter of one check (HAProxy's health counter, without its shared-counter encoding):
 * an up backend goes down after {@code fall} failures in a row; a down backend comes up after
 * {@code rise} successes in a row. A result that agrees with the current state resets the streak, so
 * a single flap never accumulates. Pure and not thread-safe: {@link Backend} guards it.
 */
public final class HealthCounter {

    private final int rise;
    private final int fall;
    private CheckState state;
    /** Results in a row that disagree with {@link #state}. */
    private int streak;

    public HealthCounter(int rise, int fall, CheckState initial) {
        if (rise < 1 || fall < 1) {
            throw new IllegalArgumentException("rise and fall must be at least 1, got rise=" + rise + " fall=" + fall);
        }
        if (initial == null) {
            throw new IllegalArgumentException("initial state is required");
        }
        this.rise = rise;
        this.fall = fall;
        this.state = initial;
    }

    /** Feeds one result; returns the state after it. */
    public CheckState record(boolean ok) {
        boolean agrees = (state == CheckState.UP) == ok;
        if (agrees) {
            streak = 0;
            return state;
        }
        streak++;
        if (streak >= (state == CheckState.UP ? fall : rise)) {
            state = state == CheckState.UP ? CheckState.DOWN : CheckState.UP;
            streak = 0;
        }
        return state;
    }

    public CheckState state() {
        return state;
    }
}
