package dev.ferry.it.bed;

/** Python ftplib programs that more than one bed test runs on the client host. */
final class ClientScripts {

    /**
     * Downloads NAME reading 64 KiB every 30 ms (about 2 MiB/s, whatever comes faster waits in the buffers on the
     * way: TCP back-pressure), says "receiving" after the first 256 KiB, then "done BYTES SHA-256 REPLY" or "error ...".
     */
    static final String SLOW_DOWNLOAD = """
            import ftplib, hashlib, sys, time
            host, port, user, password, name = sys.argv[1:6]
            # 8 s without a byte ends it (a TimeoutError): what a client's data timeout does.
            ftp = ftplib.FTP(timeout=8)
            ftp.connect(host, int(port))
            ftp.login(user, password)
            digest = hashlib.sha256()
            count = [0]
            def block(data):
                digest.update(data)
                before = count[0]
                count[0] += len(data)
                if before < 262144 <= count[0]:
                    print("receiving", flush=True)
                time.sleep(0.03 * len(data) / 65536)
            try:
                reply = ftp.retrbinary("RETR " + name, block, blocksize=65536)
                print("done", count[0], digest.hexdigest(), reply.split()[0], flush=True)
            except (OSError, EOFError, ftplib.Error) as e:
                print("error", type(e).__name__, e, "after", count[0], "bytes", flush=True)
            """;

    private ClientScripts() {
    }
}
