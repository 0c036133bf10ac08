package io.github.sisksse.server;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import org.springframework.boot.jetty.ConfigurableJettyWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;

/**
 * Caps the send buffer (SO_SNDBUF) of every connection Jetty accepts, through
 * {@link ServerConnector#setAcceptedSendBufferSize(int)} on each of the server's connectors. Unset, the kernel
 * sizes (and on Linux grows) each connection's buffer itself.
 */
public final class JettySendBufferCustomizer implements WebServerFactoryCustomizer<ConfigurableJettyWebServerFactory> {

	private final int sendBufferSize;

	/**
	 * @param sendBufferSize the send buffer of each accepted connection, in bytes
	 */
	public JettySendBufferCustomizer(int sendBufferSize) {
		this.sendBufferSize = sendBufferSize;
	}

	@Override
	public void customize(ConfigurableJettyWebServerFactory factory) {
		factory.addServerCustomizers(this::customize);
	}

	private void customize(Server server) {
		boolean capped = false;
		for (Connector connector : server.getConnectors()) {
			if (connector instanceof ServerConnector serverConnector) {
				serverConnector.setAcceptedSendBufferSize(this.sendBufferSize);
				capped = true;
			}
		}
		// Connectors of another kind would leave every buffer uncapped without a word.
		if (!capped) {
			throw new IllegalStateException(
					"sisk.sse.server.send-buffer: Jetty has no ServerConnector whose accepted send buffer to set");
		}
	}

}
