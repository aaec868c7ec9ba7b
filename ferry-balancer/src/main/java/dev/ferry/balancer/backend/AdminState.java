package dev.ferry.balancer.backend;

/**
 * What the operator set, independent of what the checks say (HAProxy's ready/drain/maint):
 * READY takes new sessions; DRAIN keeps its sessions but takes no new ones; MAINT takes none.
 */
public enum AdminState { READY, DRAIN, MAINT }
