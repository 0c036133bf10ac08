package io.github.sisksse.autoconfigure;

import io.github.sisksse.CloseReason;
import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceClosedEvent;
import io.github.sisksse.EventSourceListener;
import io.github.sisksse.EventSourceOpenedEvent;

import org.springframework.context.ApplicationEventPublisher;

/**
 * Turns a registry's open and close callbacks into Spring application events.
 */
final class ApplicationEventsListener implements EventSourceListener {

	private final ApplicationEventPublisher publisher;

	ApplicationEventsListener(ApplicationEventPublisher publisher) {
		this.publisher = publisher;
	}

	@Override
	public void onOpen(EventSource source) {
		this.publisher.publishEvent(new EventSourceOpenedEvent(source));
	}

	@Override
	public void onClose(EventSource source, CloseReason reason) {
		this.publisher.publishEvent(new EventSourceClosedEvent(source, reason));
	}

}
