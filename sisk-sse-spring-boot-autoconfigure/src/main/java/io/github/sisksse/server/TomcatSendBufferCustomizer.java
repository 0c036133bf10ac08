package io.github.sisksse.server;

import org.apache.catalina.connector.Connector;

import org.springframework.boot.tomcat.ConfigurableTomcatWebServerFactory;
import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;

/**
 * Caps the send buffer (SO_SNDBUF) of every connection Tomcat accepts, through the connector property
 * {@code socket.txBufSize}, which Tomcat applies to each socket it accepts. Unset, the kernel sizes (and on Linux
 * grows) each connection's buffer itself.
 */
public final class TomcatSendBufferCustomizer implements WebServerFactoryCustomizer<ConfigurableTomcatWebServerFactory> {

	static final String PROPERTY = "socket.txBufSize";

	private final int sendBufferSize;

	/**
	 * @param sendBufferSize the send buffer of each accepted connection, in bytes
	 */
	public TomcatSendBufferCustomizer(int sendBufferSize) {
		this.sendBufferSize = sendBufferSize;
	}

	@Override
	public void customize(ConfigurableTomcatWebServerFactory factory) {
		factory.addConnectorCustomizers(new SendBuffer(this.sendBufferSize));
	}

	private record SendBuffer(int size) implements TomcatConnectorCustomizer {

		@Override
		public void customize(Connector connector) {
			// A protocol without this property would ignore it silently and leave every buffer uncapped.
			if (!connector.setProperty(PROPERTY, Integer.toString(this.size))) {
				throw new IllegalStateException("sisk.sse.server.send-buffer: Tomcat's connector (protocol "
						+ connector.getProtocolHandlerClassName() + ") does not accept the property " + PROPERTY);
			}
		}

	}

}
