package io.github.sisksse.test;

/**
 * A dispatched event, as a browser's {@code MessageEvent} carries it.
 *
 * @param type the event type: the {@code event:} field, or {@code message} without one
 * @param data the {@code data:} lines, joined with LF
 * @param lastEventId the stream's last event id when the event was dispatched: the latest {@code id:} field so far,
 * which may be that of an earlier event, or empty
 */
public record SseEvent(String type, String data, String lastEventId) {

	@Override
	public String toString() {
		return this.type + " \"" + this.data.replace("\n", "\\n") + "\""
				+ (this.lastEventId.isEmpty() ? "" : " (id \"" + this.lastEventId + "\")");
	}

}
