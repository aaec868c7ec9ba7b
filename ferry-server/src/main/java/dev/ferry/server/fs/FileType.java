package dev.ferry.server.fs;

/** Kind of a directory entry as clients see it; OTHER covers devices, pipes and sockets. */
public enum FileType { FILE, DIRECTORY, OTHER }
