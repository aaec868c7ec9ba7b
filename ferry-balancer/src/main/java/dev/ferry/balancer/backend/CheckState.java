package dev.ferry.balancer.backend;

/** What the health checks say about a backend. A new backend starts {@link #UP}, as HAProxy starts servers up. */
public enum CheckState { UP, DOWN }
