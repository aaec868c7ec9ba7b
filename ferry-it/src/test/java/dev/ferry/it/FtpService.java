package dev.ferry.it;

import java.nio.file.Path;

/**
 * An FTP service as a client test sees it: where to connect, as whom, and the directory it serves. The
 * real-client helpers ({@link FtpsClients}) take one, so one test body runs against ferry server directly,
 * against a balancer in front of servers ({@link Shape}), or against a balancer in front of vsftpd.
 */
public interface FtpService {

    /** The address clients connect to (never the client's own 127.0.0.1 when a balancer is in front). */
    String host();

    int port();

    String user();

    String password();

    /** The directory served as "/" (behind a balancer: the one every backend serves). */
    Path root();

    /** A directory for the clients' local files; clients run in it. */
    Path clientDir();

    /** "ftp://host:port" */
    default String url() {
        return "ftp://" + host() + ":" + port();
    }
}
