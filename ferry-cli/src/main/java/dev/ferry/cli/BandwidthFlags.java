package dev.ferry.cli;

import dev.ferry.config.Setting;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.policy.Bandwidth;

/** {@code --max-upload-rate} and {@code --max-download-rate}, shared by {@code ferry server} and {@code ferry cluster}. */
final class BandwidthFlags {

    private BandwidthFlags() {
    }

    /** {@code limits} with the rates the flags give (null: the flag was not given, the rate stays). */
    static ServerSettings.Limits apply(ServerSettings.Limits limits, String upload, String download) {
        Long up = Flags.value(Setting.SERVER_UPLOAD_RATE, upload);
        Long down = Flags.value(Setting.SERVER_DOWNLOAD_RATE, download);
        if (up == null && down == null) {
            return limits;
        }
        Bandwidth b = limits.bandwidth();
        return limits.withBandwidth(new Bandwidth(up != null ? up : b.uploadPerSecond(),
                down != null ? down : b.downloadPerSecond()));
    }
}
