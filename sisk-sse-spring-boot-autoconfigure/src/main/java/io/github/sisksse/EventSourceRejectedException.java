package io.github.sisksse;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.web.server.ResponseStatusException;

/**
 * Thrown by {@link EventSourceRegistry#open(String)} when a source cannot be opened. Thrown from a controller,
 * the request is answered with its status, headers and reason as a plain-text body before any stream starts:
 * {@code 409 Conflict} for a duplicate identifier under {@link DuplicateIdentifierPolicy#REJECT},
 * {@code 503 Service Unavailable} (with {@code Retry-After}) when the registry is full or stopped, and
 * {@code 429 Too Many Requests} (with {@code Retry-After}) when one client has too many sources open.
 */
public class EventSourceRejectedException extends ResponseStatusException {

	private final HttpHeaders headers = new HttpHeaders();

	/**
	 * Create a new exception.
	 * @param status the HTTP status the request should be answered with
	 * @param reason what was refused and why
	 */
	public EventSourceRejectedException(HttpStatusCode status, String reason) {
		this(status, reason, null);
	}

	/**
	 * Create a new exception that asks the client to retry later.
	 * @param status the HTTP status the request should be answered with
	 * @param reason what was refused and why
	 * @param retryAfter when to retry, sent as {@code Retry-After} in whole seconds, or {@code null}
	 */
	public EventSourceRejectedException(HttpStatusCode status, String reason, @Nullable Duration retryAfter) {
		super(status, reason);
		if (retryAfter != null) {
			this.headers.set(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, retryAfter.toSeconds())));
		}
	}

	@Override
	public HttpHeaders getHeaders() {
		return this.headers;
	}

}
