package io.github.sisksse;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * A snapshot of one {@link EventSource}, for monitoring.
 *
 * @param identifier the identifier, or {@code null} for an anonymous source
 * @param remoteAddress the client's address, or {@code null} if the source was not opened in a request
 * @param openedAt when the source was opened
 * @param lastWriteAt when something (event or ping) was last written to the client, or {@code null} if nothing yet
 * @param eventsWritten how many application events were written to the client
 * @param queuedEvents how many events wait in the queue to be written
 */
public record EventSourceInfo(@Nullable String identifier, @Nullable String remoteAddress, Instant openedAt,
		@Nullable Instant lastWriteAt, long eventsWritten, int queuedEvents) {
}
