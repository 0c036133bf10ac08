package io.github.sisksse.actuate;

import java.util.List;

import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceInfo;
import io.github.sisksse.EventSourceRegistry;

import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

/**
 * The {@code eventsources} actuator endpoint: lists the live identified event sources and closes them by
 * identifier. Exposed only as the application configures actuator exposure
 * ({@code management.endpoints.web.exposure.include=eventsources}).
 */
@Endpoint(id = "eventsources")
public class EventSourcesEndpoint {

	private final EventSourceRegistry registry;

	/**
	 * Create the endpoint.
	 * @param registry the registry to report on
	 */
	public EventSourcesEndpoint(EventSourceRegistry registry) {
		this.registry = registry;
	}

	/**
	 * List the live identified sources.
	 * @return the number of open sources (anonymous ones included) and a snapshot of each identified one
	 */
	@ReadOperation
	public EventSourcesDescriptor eventSources() {
		return new EventSourcesDescriptor(this.registry.connectionCount(),
				this.registry.all().stream().map(EventSource::info).toList());
	}

	/**
	 * Close every live source with the given identifier, as {@link EventSource#close()} does.
	 * @param identifier the identifier
	 * @return how many sources were closed
	 */
	@DeleteOperation
	public ClosedDescriptor close(@Selector String identifier) {
		List<EventSource> sources = this.registry.find(identifier::equals);
		sources.forEach(EventSource::close);
		return new ClosedDescriptor(identifier, sources.size());
	}

	/**
	 * What the endpoint reads.
	 *
	 * @param connections the number of open sources, anonymous ones included
	 * @param eventSources the identified sources
	 */
	public record EventSourcesDescriptor(int connections, List<EventSourceInfo> eventSources) {
	}

	/**
	 * What a delete reports.
	 *
	 * @param identifier the identifier
	 * @param closed how many sources were closed
	 */
	public record ClosedDescriptor(String identifier, int closed) {
	}

}
