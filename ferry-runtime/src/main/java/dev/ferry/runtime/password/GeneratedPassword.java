package dev.ferry.runtime.password;

import java.security.SecureRandom;

/**
 * A password made for one run (the account of {@code ferry server} without users, the trial cluster's user
 * and admin): 16 characters from an alphabet without look-alikes (no 0/O, 1/l/I), about 93 bits, easy to
 * copy from a terminal.
 */
public final class GeneratedPassword {

    private static final String ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    private GeneratedPassword() {
    }

    public static String next() {
        StringBuilder b = new StringBuilder(16);
        for (int i = 0; i < 16; i++) {
            b.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return b.toString();
    }
}
