package io.github.sisksse;

import org.springframework.http.HttpStatusCode;
import org.springframework.web.server.ResponseStatusException;

/**
 * Thrown by {@link EventSourceRegistry#open(String)} when a source cannot be opened. Thrown from a controller,
 * Spring MVC answers with its status before any stream starts: {@code 409 Conflict} for a duplicate identifier
 * under {@link DuplicateIdentifierPolicy#REJECT}, {@code 503 Service Unavailable} while the registry is stopped.
 */
public class EventSourceRejectedException extends ResponseStatusException {

	/**
	 * Create a new exception.
	 * @param status the HTTP status the request should be answered with
	 * @param reason what was refused and why
	 */
	public EventSourceRejectedException(HttpStatusCode status, String reason) {
		super(status, reason);
	}

}
