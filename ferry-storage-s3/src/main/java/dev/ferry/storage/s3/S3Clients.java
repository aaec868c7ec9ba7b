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
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/** Builds the one S3 client of a server from its {@link ObjectStore} settings. */
final class S3Clients {

    private S3Clients() {
    }

    static S3Client build(ObjectStore store) throws IOException {
        var builder = S3Client.builder()
                .region(Region.of(store.region()))
                .credentialsProvider(credentials(store))
                // The JDK's HttpURLConnection: no Netty, no Apache HttpClient (see the parent POM).
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(store.requestTimeout())
                        .socketTimeout(store.requestTimeout()))
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .apiCallAttemptTimeout(store.requestTimeout())
                        .build())
                // Checksums only where an operation requires one: the SDK's default (since 2.30) sends a CRC32
                // trailer in aws-chunked bodies on every upload, which S3Proxy 3.0, older MinIO and Ceph RGW
                // reject ("x-amz-content-sha256 ... does not match"); over HTTPS, TLS guards the bytes anyway.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .serviceConfiguration(S3Configuration.builder()
                        .pathStyleAccessEnabled(store.pathStyle())
                        .build());
        if (store.endpoint() != null) {
            builder.endpointOverride(store.endpoint());
        }
        return builder.build();
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
