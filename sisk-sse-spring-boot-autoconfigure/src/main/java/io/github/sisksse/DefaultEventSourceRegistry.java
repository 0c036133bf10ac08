package io.github.sisksse;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.util.Assert;

/**
 * The registry: a facade over its parts, made and started by {@link RegistryParts}. The {@link Gate} opens
 * sources (admission, registration in the {@link SourceIndex}, replacement, joining the log) and releases them; the
 * {@link Publisher} sends through the {@link EventLog}, which the {@link Dispatcher} delivers in log order; the
 * {@link RegistryLifecycle} closes every source at shutdown, for this class's {@link SmartLifecycle} methods.
 * <p>
 * <b>Thread safety.</b> Every part is thread-safe on its own, and the order of the calls between them is kept by
 * the {@link Gate} (opening) and the {@link RegistryLifecycle} (shutdown); this class only delegates, and keeps no
 * state of its own. It is the host of the sources it opens: their calls go to the part concerned.
 */
final class DefaultEventSourceRegistry implements EventSourceRegistry, SourceHost, SmartLifecycle,
		DisposableBean {

	private final SourceIndex index;

	private final Admission admission;

	private final EventLog eventLog;

	private final Publisher publisher;

	private final RegistryLifecycle lifecycle;

	private final Gate gate;

	DefaultEventSourceRegistry(EventSourceRegistry.Builder settings) {
		RegistryParts parts = RegistryParts.start(settings);
		this.index = parts.index();
		this.admission = parts.admission();
		this.eventLog = parts.eventLog();
		this.publisher = parts.publisher();
		this.lifecycle = new RegistryLifecycle(parts);
		this.gate = new Gate(parts, this.lifecycle, this);
	}

	@Override
	public EventSource open() {
		return this.gate.open();
	}

	@Override
	public EventSource open(String identifier) {
		Assert.notNull(identifier, "Event source identifier must not be null");
		return this.gate.open(identifier);
	}

	// Sending

	@Override
	public boolean sendFrom(DefaultEventSource source, Object data) {
		return this.publisher.sendFrom(source, data);
	}

	@Override
	public int send(String identifier, Object data) {
		Assert.notNull(identifier, "Event source identifier must not be null");
		return this.publisher.send(identifier, data);
	}

	@Override
	public int sendToPrefix(String prefix, Object data) {
		Assert.notNull(prefix, "Identifier prefix must not be null");
		return this.publisher.sendToPrefix(prefix, data);
	}

	@Override
	public int broadcast(Object data) {
		return this.publisher.broadcast(data);
	}

	@Override
	public int broadcast(Object data, Predicate<String> identifierMatcher) {
		return this.publisher.broadcast(data, identifierMatcher);
	}

	@Override
	public void close(DefaultEventSource source) {
		this.publisher.close(source);
	}

	@Override
	public void ended(DefaultEventSource source) {
		this.gate.ended(source);
	}

	// Lookup

	@Override
	public Optional<EventSource> get(String identifier) {
		return this.index.get(identifier);
	}

	@Override
	public List<EventSource> find(Predicate<String> identifierMatcher) {
		return this.index.find(identifierMatcher);
	}

	@Override
	public List<EventSource> all() {
		return find((identifier) -> true);
	}

	@Override
	public Map<String, Integer> presence() {
		Map<String, Integer> presence = this.index.presence();
		this.eventLog.presence().forEach((identifier, count) -> presence.merge(identifier, count, Integer::sum));
		return presence;
	}

	@Override
	public int size() {
		return this.index.identifiedCount();
	}

	@Override
	public int connectionCount() {
		return this.admission.count();
	}

	// Lifecycle

	@Override
	public void start() {
		this.lifecycle.start();
	}

	/**
	 * Close every source with {@link CloseReason#SHUTDOWN}, sending the close event, and report back once all
	 * responses are complete, or after a few seconds if some client does not read.
	 */
	@Override
	public void stop(Runnable callback) {
		this.lifecycle.stop(callback);
	}

	@Override
	public void stop() {
		this.lifecycle.stop();
	}

	@Override
	public boolean isRunning() {
		return this.lifecycle.isRunning();
	}

	@Override
	public void destroy() {
		this.lifecycle.destroy();
	}

}
