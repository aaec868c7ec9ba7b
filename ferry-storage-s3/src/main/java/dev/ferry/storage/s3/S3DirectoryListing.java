package dev.ferry.storage.s3;

import dev.ferry.server.fs.DirectoryListing;
import dev.ferry.server.fs.FileInfo;
import dev.ferry.server.fs.VirtualPath;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.BiFunction;
import java.util.function.Function;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.EncodingType;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A directory's entries from one paged ListObjectsV2 with delimiter "/": common prefixes are the
 * subdirectories, contents the files, and every entry is described from the page itself (size, time, ETag):
 * never a request per entry.
 *
 * <p>Order: S3 lists keys in UTF-8 byte order, prefixes and objects together, each page continuing where the
 * last ended; a page is merged in that order here, so the whole listing is in key order, one page in memory at a
 * time (at most {@code pageSize} entries, 1,000 on S3). That is the names' code-point order (what local listings
 * give, {@code NameOrder}) but for one difference: a directory sorts as its name followed by "/", so "a" (a
 * directory) comes after "a b" and "a.txt", where a local listing puts it first. Putting it first would need all
 * names below "a/" in key order held at once; key order is also what {@code aws s3 ls} and rclone show.
 */
final class S3DirectoryListing implements DirectoryListing {

    private final S3Client client;
    private final ListObjectsV2Request first;
    private final VirtualPath directory;
    private final BiFunction<String, S3Object, FileInfo> file;
    private final Function<String, FileInfo> subdirectory;
    private ListObjectsV2Response page;
    private boolean iterated;

    /**
     * @param page         the first page, already fetched (it told the caller the directory exists)
     * @param file         describes an object by its name (a valid one) and its listing entry
     * @param subdirectory describes a directory by its name
     */
    S3DirectoryListing(S3Client client, ListObjectsV2Request first, ListObjectsV2Response page,
                       VirtualPath directory, BiFunction<String, S3Object, FileInfo> file,
                       Function<String, FileInfo> subdirectory) {
        this.client = client;
        this.first = first;
        this.page = page;
        this.directory = directory;
        this.file = file;
        this.subdirectory = subdirectory;
    }

    /** The request for one page of a directory's entries. */
    static ListObjectsV2Request request(String bucket, String directoryPrefix, int pageSize) {
        return ListObjectsV2Request.builder().bucket(bucket).prefix(directoryPrefix).delimiter("/")
                .encodingType(EncodingType.URL).maxKeys(pageSize).build();
    }

    /** Whether a first page shows anything at all below the prefix (the marker counts: an empty directory). */
    static boolean showsAnything(ListObjectsV2Response page) {
        return !page.contents().isEmpty() || !page.commonPrefixes().isEmpty();
    }

    @Override
    public Iterator<FileInfo> iterator() {
        if (iterated) {
            throw new IllegalStateException("a directory listing iterates once");
        }
        iterated = true;
        return new Iterator<>() {
            private final ArrayDeque<FileInfo> entries = new ArrayDeque<>();

            {
                take(page);
            }

            @Override
            public boolean hasNext() {
                while (entries.isEmpty() && page != null && Boolean.TRUE.equals(page.isTruncated())) {
                    String token = page.nextContinuationToken();
                    page = null;
                    take(fetch(token));
                }
                return !entries.isEmpty();
            }

            @Override
            public FileInfo next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return entries.poll();
            }

            private void take(ListObjectsV2Response p) {
                page = p;
                entries.addAll(merge(p, first.prefix(), file, subdirectory));
            }
        };
    }

    private ListObjectsV2Response fetch(String token) {
        try {
            return client.listObjectsV2(first.toBuilder().continuationToken(token).build());
        } catch (SdkException e) {
            throw new UncheckedIOException(S3Errors.of(e, directory));
        }
    }

    /** One page's entries in key order, without the directory's own marker and names FTP cannot carry. */
    static List<FileInfo> merge(ListObjectsV2Response page, String directoryPrefix,
                                BiFunction<String, S3Object, FileInfo> file, Function<String, FileInfo> subdirectory) {
        record Keyed(String key, FileInfo info) {
        }
        List<Keyed> keyed = new ArrayList<>(page.contents().size() + page.commonPrefixes().size());
        for (S3Object o : page.contents()) {
            // The directory's own marker has no name after the prefix: skipped. Another marker among the objects
            // is a subdirectory: S3 rolls it into a common prefix, S3Proxy's jclouds stores list it as an object.
            boolean marker = o.key().endsWith("/");
            Keys.entryName(directoryPrefix, o.key()).ifPresent(name -> keyed.add(new Keyed(o.key(),
                    marker ? subdirectory.apply(name) : file.apply(name, o))));
        }
        for (CommonPrefix p : page.commonPrefixes()) {
            Keys.entryName(directoryPrefix, p.prefix())
                    .ifPresent(name -> keyed.add(new Keyed(p.prefix(), subdirectory.apply(name))));
        }
        // Both lists come sorted; the page is one stretch of the key order, so sorting it keeps the whole in order.
        keyed.sort(Comparator.comparing(Keyed::key, Keys.ORDER));
        List<FileInfo> entries = new ArrayList<>(keyed.size());
        String last = null;
        for (Keyed k : keyed) {
            // a marker both listed and rolled up into a prefix: one entry
            if (!k.key().equals(last)) {
                entries.add(k.info());
            }
            last = k.key();
        }
        return entries;
    }

    @Override
    public void close() {
        // nothing held between pages: each page is one complete HTTP exchange
        page = null;
    }
}
