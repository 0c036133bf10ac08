package io.github.sisksse;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatus;

/**
 * The connection limits: open connections in all, and per client address.
 * <p>
 * <b>Thread safety.</b> The global count is an {@link AtomicInteger} raised only by compare-and-set below the
 * limit, so it is never above it, even for a moment; the per-client counts are kept with
 * {@link ConcurrentHashMap#compute}, atomic per address, and entries at zero are removed, so the map holds one
 * entry per client with an open connection.
 */
final class Admission {

	private final @Nullable Integer maxConnections;

	private final @Nullable Integer maxPerClient;

	private final Duration retryAfter;

	private final AtomicInteger connections = new AtomicInteger();

	private final ConcurrentHashMap<String, Integer> perClient = new ConcurrentHashMap<>();

	Admission(@Nullable Integer maxConnections, @Nullable Integer maxPerClient, Duration retryAfter) {
		this.maxConnections = maxConnections;
		this.maxPerClient = maxPerClient;
		this.retryAfter = retryAfter;
	}

	/**
	 * Take a place for a new connection.
	 * @param address the client's address, if known
	 * @return {@code null} if admitted, else the refusal to throw (or to avoid by taking over a place)
	 */
	@Nullable EventSourceRejectedException tryAcquire(@Nullable String address) {
		EventSourceRejectedException refused = tryAcquireGlobal();
		if (refused != null) {
			return refused;
		}
		refused = tryAcquireForClient(address);
		if (refused != null) {
			this.connections.decrementAndGet();
		}
		return refused;
	}

	private @Nullable EventSourceRejectedException tryAcquireGlobal() {
		int max = (this.maxConnections != null) ? this.maxConnections : Integer.MAX_VALUE;
		int open;
		do {
			open = this.connections.get();
			if (open >= max) {
				return new EventSourceRejectedException(HttpStatus.SERVICE_UNAVAILABLE,
						"Too many event streams are open (sisk.sse.max-connections=" + max + "); retry later",
						this.retryAfter);
			}
		}
		while (!this.connections.compareAndSet(open, open + 1));
		return null;
	}

	/**
	 * Take a place for one more connection of this client only, for a connection that will take over the global
	 * place of one it replaces.
	 * @return {@code null} if admitted, else the refusal to throw
	 */
	@Nullable EventSourceRejectedException tryAcquireForClient(@Nullable String address) {
		Integer max = this.maxPerClient;
		if (max == null || address == null) {
			return null;
		}
		boolean[] acquired = new boolean[1];
		this.perClient.compute(address, (key, count) -> {
			int open = (count != null) ? count : 0;
			acquired[0] = open < max;
			return acquired[0] ? Integer.valueOf(open + 1) : count;
		});
		return acquired[0] ? null : new EventSourceRejectedException(HttpStatus.TOO_MANY_REQUESTS,
				"Too many event streams are open from " + address + " (sisk.sse.max-connections-per-client=" + max
						+ "); retry later",
				this.retryAfter);
	}

	/**
	 * Whether a refusal came from the global limit, which a reconnecting client may get past by taking over the
	 * place of the connection it replaces.
	 */
	static boolean isGlobal(EventSourceRejectedException refusal) {
		return refusal.getStatusCode() == HttpStatus.SERVICE_UNAVAILABLE;
	}

	/**
	 * Hand the place of a replaced connection to its successor, which took a per-client place of its own unless
	 * it was expected to be the same client.
	 * @param from the replaced connection's client
	 * @param to the successor's client
	 * @param sameClient whether the successor took no per-client place, expecting {@code from} to equal {@code to}
	 */
	void handOver(@Nullable String from, @Nullable String to, boolean sameClient) {
		if (sameClient && Objects.equals(from, to)) {
			return;
		}
		releaseForClient(from);
		if (sameClient && to != null && this.maxPerClient != null) {
			// A different client replaced it meanwhile: the successor needs the per-client place it did not take.
			this.perClient.merge(to, 1, Integer::sum);
		}
	}

	void release(@Nullable String address) {
		this.connections.decrementAndGet();
		releaseForClient(address);
	}

	void releaseForClient(@Nullable String address) {
		if (address != null && this.maxPerClient != null) {
			this.perClient.computeIfPresent(address, (key, count) -> (count > 1) ? count - 1 : null);
		}
	}

	int count() {
		return this.connections.get();
	}

}
