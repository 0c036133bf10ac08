package io.github.sisksse;

/**
 * What a source needs of its registry; implemented by the registry, so that the source and its connection do not
 * depend on it.
 * <p>
 * <b>Thread safety.</b> Implementations are called from any thread: the application's, the writers', the
 * container's and the scheduler's, and must be thread-safe.
 */
interface SourceHost {

	/**
	 * Send from this source, through the log, so that it keeps its place among the other publications.
	 */
	boolean sendFrom(DefaultEventSource source, Object data);

	/**
	 * The source ended: forget it and release its place. Called once per end call; must be idempotent.
	 */
	void ended(DefaultEventSource source);

	/**
	 * The application closes the source: end it gracefully once what was sent to it before is delivered.
	 */
	void close(DefaultEventSource source);

}
