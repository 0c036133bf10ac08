package io.github.sisksse;

/**
 * Thrown when an event cannot be published because the {@link EventLog} cannot be reached (its store is down,
 * say). Nothing was published; connections already open stay open.
 */
public class EventLogException extends RuntimeException {

	/**
	 * Create an exception.
	 * @param message what failed
	 * @param cause the store's failure
	 */
	public EventLogException(String message, Throwable cause) {
		super(message, cause);
	}

}
