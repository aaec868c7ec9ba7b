package dev.ferry.runtime.net;

/** Clients whose address is inside {@code cidr} (e.g. "10.0.0.0/8") are told {@code address}. */
public record NetworkAddress(String cidr, String address) {
}
