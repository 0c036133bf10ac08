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
		if (!tryAcquireForClient(address)) {
			this.connections.decrementAndGet();
			return new EventSourceRejectedException(HttpStatus.TOO_MANY_REQUESTS,
					"Too many event streams are open from " + address + " (sisk.sse.max-connections-per-client="
							+ this.maxPerClient + "); retry later",
					this.retryAfter);
		}
		return null;
	}

	private boolean tryAcquireForClient(@Nullable String address) {
		Integer max = this.maxPerClient;
		if (max == null || address == null) {
			return true;
		}
		boolean[] acquired = new boolean[1];
		this.perClient.compute(address, (key, count) -> {
			int open = (count != null) ? count : 0;
			acquired[0] = open < max;
			return acquired[0] ? Integer.valueOf(open + 1) : count;
		});
		return acquired[0];
	}

	/**
	 * Hand a place over from a connection being replaced to its successor, so that a reconnecting client is let
	 * in even at the limit, and the count stays what it was.
	 */
	void transfer(@Nullable String from, @Nullable String to) {
		if (this.maxPerClient != null && !Objects.equals(from, to)) {
			releaseForClient(from);
			if (to != null) {
				this.perClient.merge(to, 1, Integer::sum);
			}
		}
	}

	void release(@Nullable String address) {
		this.connections.decrementAndGet();
		releaseForClient(address);
	}

	private void releaseForClient(@Nullable String address) {
		if (address != null && this.maxPerClient != null) {
			this.perClient.computeIfPresent(address, (key, count) -> (count > 1) ? count - 1 : null);
		}
	}

	int count() {
		return this.connections.get();
	}

}
