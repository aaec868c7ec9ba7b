package dev.ferry.storage.s3;

import dev.ferry.server.fs.ObjectStore;
import java.io.IOException;
import java.nio.file.Files;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.auth.scheme.S3AuthSchemeProvider;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.services.s3.S3Configuration;

/** Builds the one S3 client of a server from its {@link ObjectStore} settings. */
final class S3Clients {

    private S3Clients() {
    }

    static S3Client build(ObjectStore store) throws IOException {
        // The JDK's HttpURLConnection: no Netty, no Apache HttpClient (see the parent POM). It streams a part from
        // its buffer (fixed-length mode, S3ClientsTest), so the upload budget bounds the memory; Apache HttpClient
        // 4 and 5 did no better under the same load (docs/performance.md, UploadMemoryMeasure). Its pool is the
        // JDK's keep-alive cache, which opens a connection whenever none is idle: parts in flight never wait for
        // one, and the budget bounds how many are in flight.
        return build(store, UrlConnectionHttpClient.builder()
                .connectionTimeout(store.requestTimeout())
                .socketTimeout(store.requestTimeout()));
    }

    /** The client over another HTTP client (UploadMemoryMeasure compares them). */
    static S3Client build(ObjectStore store, SdkHttpClient.Builder<?> http) throws IOException {
        var builder = S3Client.builder()
                .region(Region.of(store.region()))
                .credentialsProvider(credentials(store))
                .httpClientBuilder(http)
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .apiCallAttemptTimeout(store.requestTimeout())
                        .build())
                // Checksums only where S3 requires them (SDK 2.30+ adds a CRC to every PUT by default, sent as an
                // aws-chunked trailer on http endpoints, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, which S3Proxy
                // 3.0.0, older MinIO and Ceph RGW reject with XAmzContentSHA256Mismatch). SigV4 still signs the
                // payload's SHA-256.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .serviceConfiguration(S3Configuration.builder()
                        .pathStyleAccessEnabled(store.pathStyle())
                        .build());
        if (store.endpoint() != null) {
            builder.endpointOverride(store.endpoint());
        }
        builder.authSchemeProvider(wholePayloadSigning());
        return builder.build();
    }

    /**
     * SigV4 with a body of known length signed whole (its SHA-256 in x-amz-content-sha256, which SigV4 requires
     * over http; over https S3 takes UNSIGNED-PAYLOAD, TLS guarding the bytes) rather than as aws-chunked with a
     * signature per 128 KiB chunk, the SDK's default for streamed bodies:
     * <ul>
     *   <li>that framing cost a STOR 4.68 s of CPU per GiB against 3.68 s signed whole, and 129 against 146 MB/s
     *       (docs/performance.md); a part is in memory already, so reading it twice (hash, then send) costs no I/O;</li>
     *   <li>an empty object (a directory marker, STOU's claim on a name) is then sent with no body at all. Framed,
     *       it has 86 bytes of body, and a store that answers a conditional PUT that lost its race (412) before
     *       reading the body and closes (S3Proxy does) makes writing them fail, which the client can only report
     *       as "Error writing request body": a lost race read as an unreachable store.</li>
     * </ul>
     */
    static S3AuthSchemeProvider wholePayloadSigning() {
        S3AuthSchemeProvider standard = S3AuthSchemeProvider.defaultProvider();
        return params -> standard.resolveAuthScheme(params).stream()
                .map(option -> option.toBuilder()
                        .putSignerProperty(AwsV4FamilyHttpSigner.CHUNK_ENCODING_ENABLED, false)
                        .build())
                .toList();
    }

    /** A credentials file when one is set (AWS profile format, profile "default"), else the standard AWS chain. */
    private static AwsCredentialsProvider credentials(ObjectStore store) throws IOException {
        if (store.credentialsFile() == null) {
            return DefaultCredentialsProvider.builder().build();
        }
        if (!Files.isReadable(store.credentialsFile())) {
            throw new IOException("storage credentials file " + store.credentialsFile() + " cannot be read");
        }
        return ProfileCredentialsProvider.builder()
                .profileFile(ProfileFile.builder().content(store.credentialsFile()).type(ProfileFile.Type.CREDENTIALS).build())
                .profileName("default")
                .build();
    }
}
