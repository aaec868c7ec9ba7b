package dev.ferry.database;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The schema's migrations: SQL resources {@code dev/ferry/database/migrations/V<n>__<name>.sql}, numbered 1, 2, 3...
 * without a gap. Found by listing that folder where this class was loaded from (a directory in a build, a jar in
 * the distribution), so a module adding a migration adds a file and edits no list.
 */
final class Migrations {

    static final String FOLDER = "dev/ferry/database/migrations/";
    private static final Pattern NAME = Pattern.compile("V([1-9][0-9]{0,5})__([a-z0-9_]+)\\.sql");

    /** One migration: its version, its name (the file's) and its SQL. */
    record Migration(int version, String file, String sql) {}

    private Migrations() {
    }

    /** Every migration in version order; a gap, a duplicate or a badly named file is a packaging bug. */
    static List<Migration> all() throws DatabaseException {
        List<String> files = new ArrayList<>();
        try {
            URL source = Migrations.class.getProtectionDomain().getCodeSource().getLocation();
            Path where = Path.of(source.toURI());
            if (Files.isDirectory(where)) {
                Path folder = where.resolve(FOLDER);
                if (Files.isDirectory(folder)) {
                    try (Stream<Path> list = Files.list(folder)) {
                        list.forEach(p -> files.add(p.getFileName().toString()));
                    }
                }
            } else {
                try (JarFile jar = new JarFile(where.toFile())) {
                    jar.stream().map(JarEntry::getName)
                            .filter(n -> n.startsWith(FOLDER) && n.indexOf('/', FOLDER.length()) < 0 && n.length() > FOLDER.length())
                            .forEach(n -> files.add(n.substring(FOLDER.length())));
                }
            }
        } catch (IOException | URISyntaxException | RuntimeException e) {
            throw new DatabaseException("cannot list the schema migrations (" + e + ")", e);
        }
        List<Migration> migrations = new ArrayList<>();
        for (String file : files) {
            Matcher m = NAME.matcher(file);
            if (!m.matches()) {
                throw new DatabaseException("schema migration " + file + " is not named V<n>__<name>.sql");
            }
            migrations.add(new Migration(Integer.parseInt(m.group(1)), file, read(file)));
        }
        migrations.sort(Comparator.comparingInt(Migration::version));
        for (int i = 0; i < migrations.size(); i++) {
            if (migrations.get(i).version() != i + 1) {
                throw new DatabaseException("schema migrations must be numbered 1, 2, 3... without gaps or repeats; found "
                        + migrations.stream().map(Migration::file).toList());
            }
        }
        return List.copyOf(migrations);
    }

    private static String read(String file) throws DatabaseException {
        try (InputStream in = Migrations.class.getClassLoader().getResourceAsStream(FOLDER + file)) {
            if (in == null) {
                throw new DatabaseException("schema migration " + file + " is listed but cannot be read");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DatabaseException("cannot read schema migration " + file + " (" + e + ")", e);
        }
    }
}
