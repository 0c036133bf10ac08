package io.github.sisksse;

/**
 * What {@link EventSourceRegistry#open(String)} does when a live source already has the identifier.
 */
public enum DuplicateIdentifierPolicy {

	/**
	 * Close the older source with {@link CloseReason#REPLACED} and register the new one, as Sisk does.
	 */
	REPLACE,

	/**
	 * Refuse the new source with an {@link EventSourceRejectedException} ({@code 409 Conflict}).
	 */
	REJECT,

	/**
	 * Keep several sources per identifier (one user, several browser tabs):
	 * {@link EventSourceRegistry#get(String)} returns the newest, {@code find} and {@code all} return every one.
	 */
	ALLOW

}
