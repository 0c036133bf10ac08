package io.github.sisksse;

import org.springframework.context.ApplicationEvent;

/**
 * Published when an {@link EventSource} ends, exactly once per source, on the thread that ended it (a request,
 * writer, scheduler or container thread). Listen with {@code @EventListener}; use {@code @Async} for slow work.
 */
public class EventSourceClosedEvent extends ApplicationEvent {

	private final CloseReason reason;

	/**
	 * Create a new event.
	 * @param source the source that ended
	 * @param reason why it ended
	 */
	public EventSourceClosedEvent(EventSource source, CloseReason reason) {
		super(source);
		this.reason = reason;
	}

	/**
	 * Return the source that ended.
	 * @return the source
	 */
	public EventSource getEventSource() {
		return (EventSource) getSource();
	}

	/**
	 * Return why the source ended.
	 * @return the reason
	 */
	public CloseReason getReason() {
		return this.reason;
	}

}
